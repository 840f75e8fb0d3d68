using Proto = Orchestrator.Protocol.V1;

namespace Orchestrator.Distillation.Trials;

/// <summary>
/// Trials that finished, by identity (their configuration hash), in the store the runs share with their soft targets:
/// a trial whose identity matches one finished in another folder (another sweep's teacher, say) takes that result,
/// its checkpoints and epochs copied, instead of training again. One small file per identity holds the folder's path.
/// </summary>
public sealed class FinishedTrials(string storeDirectory)
{
    public string Directory { get; } = Path.Combine(storeDirectory, "trials");

    string EntryOf(string identity) => Path.Combine(Directory, identity);

    /// <summary>Records a trial that finished on its own terms (completed or stopped early by its patience) in <paramref name="folder"/>.</summary>
    public void Add(string identity, TrialFolder folder) => AtomicFile.WriteText(EntryOf(identity), Path.GetFullPath(folder.Directory));

    /// <summary>
    /// The folder of a finished trial of this identity other than <paramref name="except"/>, whose summary still says so
    /// and whose best checkpoint is there; null when there is none (an entry whose folder was removed or reused counts as none).
    /// </summary>
    public (TrialFolder Folder, Proto.TrialSummary Summary)? Find(string identity, TrialFolder except)
    {
        string entry = EntryOf(identity);
        if (!File.Exists(entry)) return null;
        var folder = new TrialFolder(File.ReadAllText(entry).Trim());
        if (Path.GetFullPath(folder.Directory) == Path.GetFullPath(except.Directory)) return null;
        return folder.ReadSummary() is { Status: Proto.TrialStatus.Completed or Proto.TrialStatus.EarlyStopped } summary
               && summary.ConfigurationHash == identity && File.Exists(folder.BestCheckpoint)
            ? (folder, summary)
            : null;
    }

    /// <summary>
    /// Makes <paramref name="target"/> hold what <paramref name="source"/> holds (checkpoints, epochs) and returns its summary,
    /// pointing at the copies and noting where it was trained. Each file is written whole or not at all; <paramref name="check"/>
    /// (an attempt's fence) runs before each replaces anything, and the summary comes last, so a copy cut short is no result.
    /// </summary>
    public static Proto.TrialSummary CopyResult(TrialFolder source, Proto.TrialSummary summary, TrialFolder target, Action? check)
    {
        foreach (string file in new[] { TrialFolder.BestCheckpointFile, TrialFolder.LastCheckpointFile, TrialFolder.MetricsFile })
        {
            string from = Path.Combine(source.Directory, file);
            if (!File.Exists(from)) continue;
            AtomicFile.Write(Path.Combine(target.Directory, file), stream =>
            {
                using var input = File.OpenRead(from);
                input.CopyTo(stream);
            }, check);
        }
        var copied = summary.Clone();
        copied.BestCheckpoint = target.BestCheckpoint;
        copied.Pack = "";
        copied.Notes.Add($"reused: the same trial (identity {summary.ConfigurationHash}) finished in {source.Directory}; not trained again");
        copied.FinishedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(DateTime.UtcNow);
        target.WriteSummary(copied, check);
        return copied;
    }
}
