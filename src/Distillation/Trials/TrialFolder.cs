using Google.Protobuf;
using Orchestrator.Distillation.Training;
using Proto = Orchestrator.Protocol.V1;

namespace Orchestrator.Distillation.Trials;

/// <summary>
/// A trial's folder: the one place its format is defined. <c>last.ckpt</c> and <c>best.ckpt</c> (<see cref="Checkpoint"/>),
/// <c>metrics.jsonl</c> (one <see cref="Proto.EpochMetrics"/> JSON line per epoch: always exactly the epochs of last.ckpt),
/// <c>summary.json</c> (the <see cref="Proto.TrialSummary"/> written when it ends) and <c>attempt</c> (the sweep's attempt
/// that owns it, <see cref="AttemptFence"/>). The node that trains it writes it; the report and the summarize, export
/// and trial commands read it. A soft-target job's folder holds a summary.json only.
/// </summary>
public sealed record TrialFolder(string Directory)
{
    public const string LastCheckpointFile = "last.ckpt", BestCheckpointFile = "best.ckpt", MetricsFile = "metrics.jsonl", SummaryFile = "summary.json";

    public string LastCheckpoint => Path.Combine(Directory, LastCheckpointFile);
    public string BestCheckpoint => Path.Combine(Directory, BestCheckpointFile);
    public string Metrics => Path.Combine(Directory, MetricsFile);
    public string Summary => Path.Combine(Directory, SummaryFile);

    static readonly JsonFormatter Line = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true).WithPreserveProtoFieldNames(true));
    static readonly JsonFormatter Indented = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true).WithPreserveProtoFieldNames(true).WithIndentation("  "));
    static readonly JsonParser Parser = JsonParser.Default;

    /// <summary>The summary it holds; null when it holds none, or one this tool did not write.</summary>
    public Proto.TrialSummary? ReadSummary()
    {
        if (!File.Exists(Summary)) return null;
        try
        {
            return Parser.Parse<Proto.TrialSummary>(File.ReadAllText(Summary));
        }
        catch (InvalidProtocolBufferException)
        {
            return null;
        }
    }

    /// <summary>Writes summary.json whole or not at all; <paramref name="check"/> runs before the rename (an attempt's fence).</summary>
    public void WriteSummary(Proto.TrialSummary summary, Action? check = null) => AtomicFile.WriteText(Summary, Indented.Format(summary) + "\n", check);

    /// <summary>Appends an epoch's line to metrics.jsonl.</summary>
    public void AppendEpoch(Proto.EpochMetrics epoch) => File.AppendAllText(Metrics, Line.Format(epoch) + "\n");

    /// <summary>Makes metrics.jsonl hold exactly these epochs (those of last.ckpt), so a resumed run neither repeats nor loses lines.</summary>
    public void RewriteEpochs(IReadOnlyList<Proto.EpochMetrics> epochs, Action? check)
    {
        if (epochs.Count > 0)
        {
            AtomicFile.WriteText(Metrics, string.Concat(epochs.Select(e => Line.Format(e) + "\n")), check);
            return;
        }
        check?.Invoke();
        File.Delete(Metrics);
    }

    /// <summary>The epochs metrics.jsonl holds (none when it is missing); a line cut short by a crash ends the list.</summary>
    public IReadOnlyList<Proto.EpochMetrics> ReadEpochs()
    {
        if (!File.Exists(Metrics)) return [];
        var epochs = new List<Proto.EpochMetrics>();
        foreach (string line in File.ReadLines(Metrics).Where(l => l.Length > 0))
        {
            try
            {
                epochs.Add(Parser.Parse<Proto.EpochMetrics>(line));
            }
            catch (Exception e) when (e is InvalidProtocolBufferException or InvalidJsonException)
            {
                break;
            }
        }
        return epochs;
    }
}
