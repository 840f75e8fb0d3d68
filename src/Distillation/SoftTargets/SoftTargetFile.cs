using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.SoftTargets;

/// <summary>Where one tensor lies in a soft-target file's payload.</summary>
public sealed record TensorEntry(string Name, long[] Shape, string Dtype, long Offset, long Bytes);

/// <summary>A teacher's (or the ensemble's) accuracy on the validation and test splits, as measured when the soft targets were made.</summary>
public sealed record MemberAccuracy(string Checkpoint, string Sha256, long Parameters, double Validation, double Test);

/// <summary>
/// What a soft-target file holds and where it came from. <see cref="Key"/> is a hash of <see cref="Inputs"/> (the
/// dataset fingerprint, the teachers' checkpoint hashes, the aggregation, the dtype, ...), so a file can be checked
/// against the key it is looked up by, and the key against what it claims to be made of.
/// </summary>
public sealed record SoftTargetManifest(
    int Format,
    string Kind,
    string Key,
    SortedDictionary<string, string> Inputs,
    Dictionary<string, long> Samples,
    int Classes,
    List<TensorEntry> Tensors,
    string PayloadSha256,
    DateTimeOffset Created,
    List<MemberAccuracy>? Teachers = null,
    MemberAccuracy? Ensemble = null);

/// <summary>A soft-target file could not be used: missing, truncated, corrupt, or not what it was looked up as.</summary>
public sealed class SoftTargetFileRejected(string path, string reason) : Exception($"{path}: {reason}")
{
    public string Reason { get; } = reason;
}

/// <summary>
/// Soft-target files: "ORSOFT1\n", an int32 length and a JSON <see cref="SoftTargetManifest"/>, then the tensors back
/// to back (C order, little-endian). The payload's SHA-256 is in the manifest and is verified on every read, as are
/// the key and the file's length. Written to a temporary file, flushed and renamed.
/// </summary>
public static class SoftTargetFile
{
    public const int Format = 1;
    static readonly byte[] Magic = "ORSOFT1\n"u8.ToArray();
    static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    /// <summary>The content address of a set of inputs: a SHA-256 of them in a canonical form.</summary>
    public static string KeyOf(SortedDictionary<string, string> inputs) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Concat(inputs.Select(p => $"{p.Key}={p.Value}\n")))))[..32];

    /// <summary>Writes <paramref name="tensors"/> (any device; stored as <paramref name="dtype"/>) under a manifest built from the rest.</summary>
    public static SoftTargetManifest Write(string path, string kind, SortedDictionary<string, string> inputs, Dictionary<string, long> samples, int classes,
        IReadOnlyList<(string Name, Tensor Tensor)> tensors, SoftTargetDtype dtype, List<MemberAccuracy>? teachers = null, MemberAccuracy? ensemble = null)
    {
        var scalar = dtype == SoftTargetDtype.Float16 ? ScalarType.Float16 : ScalarType.Float32;
        using var scope = NewDisposeScope();
        var stored = tensors.Select(t => (t.Name, Tensor: t.Tensor.detach().to(scalar).cpu().contiguous())).ToList();
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var entries = new List<TensorEntry>();
        long offset = 0;
        foreach (var (name, tensor) in stored)
        {
            var bytes = tensor.bytes;
            sha.AppendData(bytes);
            entries.Add(new TensorEntry(name, tensor.shape, TeacherEnsemble.NameOf(dtype), offset, bytes.Length));
            offset += bytes.Length;
        }
        var manifest = new SoftTargetManifest(Format, kind, KeyOf(inputs), inputs, samples, classes, entries,
            Convert.ToHexStringLower(sha.GetHashAndReset()), DateTimeOffset.UtcNow, teachers, ensemble);
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(manifest, JsonOptions);
        AtomicFile.Write(path, stream =>
        {
            stream.Write(Magic);
            stream.Write(BitConverter.GetBytes(json.Length));
            stream.Write(json);
            foreach (var (_, tensor) in stored) stream.Write(tensor.bytes);
        });
        return manifest;
    }

    /// <summary>Reads only the manifest (no checks beyond its header): for listings.</summary>
    public static SoftTargetManifest ReadManifest(string path)
    {
        using var stream = File.OpenRead(path);
        return ReadHeader(stream, path).Manifest;
    }

    /// <summary>
    /// Reads and verifies a whole file: the header, the key it was looked up by, the length, the payload checksum.
    /// Tensors come back as float32 on <paramref name="device"/>. Throws <see cref="SoftTargetFileRejected"/> on any mismatch.
    /// </summary>
    public static (SoftTargetManifest Manifest, Dictionary<string, Tensor> Tensors) Read(string path, string expectedKey, Device device)
    {
        if (!File.Exists(path)) throw new SoftTargetFileRejected(path, "does not exist");
        using var stream = File.OpenRead(path);
        var (manifest, payloadStart) = ReadHeader(stream, path);
        if (manifest.Key != expectedKey) throw new SoftTargetFileRejected(path, $"holds soft targets {manifest.Key}, not {expectedKey}");
        if (KeyOf(manifest.Inputs) != manifest.Key) throw new SoftTargetFileRejected(path, "its key does not match the inputs in its manifest");
        long payloadLength = manifest.Tensors.Sum(t => t.Bytes);
        if (stream.Length != payloadStart + payloadLength)
            throw new SoftTargetFileRejected(path, $"is {stream.Length} bytes long, its manifest says {payloadStart + payloadLength} (truncated or appended to)");

        var tensors = new Dictionary<string, Tensor>();
        bool ok = false;
        try
        {
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long expectedOffset = 0;
            foreach (var entry in manifest.Tensors)
            {
                var dtype = TeacherEnsemble.DtypeNames.TryGetValue(entry.Dtype, out var d) ? d
                    : throw new SoftTargetFileRejected(path, $"tensor {entry.Name} has unknown dtype {entry.Dtype}");
                var cpu = empty(entry.Shape, dtype == SoftTargetDtype.Float16 ? ScalarType.Float16 : ScalarType.Float32);
                tensors[entry.Name] = cpu;
                var bytes = cpu.bytes;
                if (entry.Offset != expectedOffset || entry.Bytes != bytes.Length)
                    throw new SoftTargetFileRejected(path, $"tensor {entry.Name}: its size or offset does not match its shape");
                stream.ReadExactly(bytes);
                sha.AppendData(bytes);
                var converted = cpu.to(ScalarType.Float32, device);
                if (!ReferenceEquals(converted, cpu)) cpu.Dispose();
                tensors[entry.Name] = converted;
                expectedOffset += entry.Bytes;
            }
            if (Convert.ToHexStringLower(sha.GetHashAndReset()) != manifest.PayloadSha256)
                throw new SoftTargetFileRejected(path, "checksum mismatch: the payload is corrupt");
            ok = true;
            return (manifest, tensors);
        }
        finally
        {
            if (!ok) foreach (var tensor in tensors.Values) tensor.Dispose();
        }
    }

    static (SoftTargetManifest Manifest, long PayloadStart) ReadHeader(Stream stream, string path)
    {
        var header = new byte[Magic.Length + sizeof(int)];
        if (stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false) < header.Length || !header.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            throw new SoftTargetFileRejected(path, "is not a soft-target file (wrong header)");
        int length = BitConverter.ToInt32(header, Magic.Length);
        if (length <= 0 || length > stream.Length - header.Length) throw new SoftTargetFileRejected(path, "is truncated (manifest cut short)");
        var json = new byte[length];
        stream.ReadExactly(json);
        try
        {
            var manifest = JsonSerializer.Deserialize<SoftTargetManifest>(json) ?? throw new JsonException("empty manifest");
            if (manifest.Format != Format) throw new SoftTargetFileRejected(path, $"has format {manifest.Format}; this version reads format {Format}");
            return (manifest, header.Length + length);
        }
        catch (JsonException e)
        {
            throw new SoftTargetFileRejected(path, $"its manifest is unreadable ({e.Message})");
        }
    }
}
