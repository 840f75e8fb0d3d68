using System.Text;
using Google.Protobuf;
using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.State;

/// <summary>
/// Part of a sweep's plan as it is persisted (a serialized <see cref="SweepJobsPlanned"/>: its planned jobs' bytes), held so: a
/// job's <see cref="PlannedJob"/> is parsed when it is needed (its dispatch, a page, a status event). A million planned
/// jobs so cost their bytes, not a million parsed messages with a map each, and a snapshot saves and restores the
/// plan by copying bytes (parsing 1M planned jobs took 1.8-4 s; docs/benchmarks.md).
/// </summary>
public sealed class PlanChunk
{
    readonly byte[] bytes;

    public PlanChunk(byte[] bytes) => this.bytes = bytes;

    public static PlanChunk Of(IEnumerable<PlannedJob> jobs) => new(new SweepJobsPlanned { Jobs = { jobs.Select(j => j.ToByteString()) } }.ToByteArray());

    /// <summary>The chunk as a snapshot holds it (not copied: the bytes never change).</summary>
    public ByteString Bytes => UnsafeByteOperations.UnsafeWrap(bytes);

    public PlannedJob Job(in Entry entry) => PlannedJob.Parser.ParseFrom(bytes, entry.Offset, entry.Length);

    /// <summary>Where a job lies in the chunk, and what the job graph needs of it without parsing it.</summary>
    public readonly record struct Entry(int Offset, int Length, string Id, JobKind Kind, IReadOnlyList<string> DependsOn);

    /// <summary>The chunk's jobs in plan order; each parameter name they use is added to <paramref name="parameterNames"/>.</summary>
    public List<Entry> Entries(ISet<string> parameterNames)
    {
        var entries = new List<Entry>();
        var names = new List<byte[]>(); // the names seen in this chunk, as UTF-8: a name is decoded once, not once per job
        var chunk = new WireReader(bytes, 0, bytes.Length);
        while (!chunk.End)
        {
            var (field, wireType) = chunk.Tag();
            if (field != SweepJobsPlanned.JobsFieldNumber || wireType != WireReader.LengthDelimited)
            {
                chunk.Skip(wireType);
                continue;
            }
            var (offset, length) = chunk.Delimited();
            entries.Add(Read(offset, length, names, parameterNames));
        }
        return entries;
    }

    Entry Read(int offset, int length, List<byte[]> names, ISet<string> parameterNames)
    {
        string id = "";
        var kind = JobKind.Unspecified;
        List<string>? dependsOn = null;
        var job = new WireReader(bytes, offset, length);
        while (!job.End)
        {
            var (field, wireType) = job.Tag();
            switch (field)
            {
                case PlannedJob.JobIdFieldNumber:
                    id = job.String();
                    break;
                case PlannedJob.KindFieldNumber:
                    kind = (JobKind)job.Varint();
                    break;
                case PlannedJob.DependsOnFieldNumber:
                    (dependsOn ??= []).Add(job.String());
                    break;
                case PlannedJob.ParametersFieldNumber:
                    var (entryOffset, entryLength) = job.Delimited();
                    var parameter = new WireReader(bytes, entryOffset, entryLength);
                    while (!parameter.End)
                    {
                        var (entryField, entryWireType) = parameter.Tag();
                        if (entryField == 1) Seen(parameter.Span(), names, parameterNames); // 1: the map entry's key
                        else parameter.Skip(entryWireType);
                    }
                    break;
                default:
                    job.Skip(wireType);
                    break;
            }
        }
        return new Entry(offset, length, id, kind, (IReadOnlyList<string>?)dependsOn ?? []);
    }

    static void Seen(ReadOnlySpan<byte> name, List<byte[]> names, ISet<string> parameterNames)
    {
        foreach (byte[] known in names)
            if (name.SequenceEqual(known)) return;
        names.Add(name.ToArray());
        parameterNames.Add(Encoding.UTF8.GetString(name));
    }

    /// <summary>Reads protobuf's wire format in place (the fields the job graph needs, without parsing whole messages).</summary>
    ref struct WireReader(byte[] bytes, int offset, int length)
    {
        public const int LengthDelimited = 2;
        int position = offset;
        readonly int end = offset + length;

        public readonly bool End => position >= end;

        public (int Field, int WireType) Tag()
        {
            ulong tag = Varint();
            return ((int)(tag >> 3), (int)(tag & 7));
        }

        public ulong Varint()
        {
            ulong value = 0;
            for (int shift = 0; ; shift += 7)
            {
                if (position >= end || shift > 63) throw new InvalidDataException("a sweep plan chunk ends inside a number: the plan is corrupt");
                byte next = bytes[position++];
                value |= (ulong)(next & 0x7F) << shift;
                if (next < 0x80) return value;
            }
        }

        public (int Offset, int Length) Delimited()
        {
            int size = checked((int)Varint());
            if (size < 0 || size > end - position) throw new InvalidDataException("a sweep plan chunk ends inside a field: the plan is corrupt");
            position += size;
            return (position - size, size);
        }

        public ReadOnlySpan<byte> Span()
        {
            var (start, size) = Delimited();
            return bytes.AsSpan(start, size);
        }

        public string String() => Encoding.UTF8.GetString(Span());

        public void Skip(int wireType)
        {
            switch (wireType)
            {
                case 0: Varint(); break;
                case 1: position += 8; break;
                case LengthDelimited: Delimited(); break;
                case 5: position += 4; break;
                default: throw new InvalidDataException($"a sweep plan chunk holds wire type {wireType}: the plan is corrupt");
            }
        }
    }
}
