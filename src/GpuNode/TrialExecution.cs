using System.Diagnostics;
using Orchestrator.Distillation;
using Orchestrator.Distillation.Configuration;
using Orchestrator.Distillation.Training;
using Proto = Orchestrator.Protocol.V1;

namespace Orchestrator.GpuNode;

/// <summary>
/// Runs one trial into its own folder: last.ckpt / best.ckpt, metrics.jsonl (one line per epoch) and
/// summary.json. Running it again on the same folder resumes from last.ckpt. A sweep's dispatch is an attempt
/// (<see cref="AttemptFence"/>): it writes nothing once a later attempt owns the folder, and ends cancelled.
/// </summary>
public static class TrialExecution
{
    public const string MetricsFile = "metrics.jsonl";
    public const string SummaryFile = "summary.json";

    /// <param name="attempt">The sweep's attempt number of this run (<see cref="Proto.JobSpec.Attempt"/>); 0 for a trial run by hand, which is not fenced.</param>
    /// <param name="stop">Its sweep stopped it (<see cref="Trainer.Run"/>): it ends after its batch with its best checkpoint's test accuracy.</param>
    public static Proto.TrialSummary Run(TrialConfig config, string outputDirectory, Action<EpochMetrics>? onEpoch = null,
        Action<string>? log = null, CancellationToken cancellation = default, string? softTargetDirectory = null, long attempt = 0, CancellationToken stop = default)
    {
        Directory.CreateDirectory(outputDirectory);
        var fence = attempt > 0 ? new AttemptFence(outputDirectory, attempt) : null;
        Action? check = fence is null ? null : fence.Check;
        var clock = Stopwatch.StartNew();
        string metricsPath = Path.Combine(outputDirectory, MetricsFile);
        try
        {
            fence?.NotSuperseded();
            if (Finished(config, outputDirectory) is { } finished)
            {
                // Dispatched again after it finished (its report went to a coordinator that died before storing it):
                // its result stands, and nothing in its folder changes.
                log?.Invoke("already finished: reporting the summary it wrote");
                return finished;
            }
            fence?.Claim();
            RewriteMetricsFromCheckpoint(outputDirectory, metricsPath, log, check);

            var outcome = TrialRunner.Run(config, outputDirectory, metrics =>
            {
                check?.Invoke();
                File.AppendAllText(metricsPath, TrialReports.ToJsonLine(metrics.ToProto()) + "\n");
                onEpoch?.Invoke(metrics);
            }, log, cancellation, softTargetDirectory, fence, stop);

            var summary = outcome.ToSummary(config.Name, config.Model.Name, clock.Elapsed.TotalSeconds,
                Path.Combine(outputDirectory, Trainer.BestCheckpoint));
            summary.FinishedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(DateTime.UtcNow);
            AtomicFile.WriteText(Path.Combine(outputDirectory, SummaryFile), TrialReports.ToIndentedJson(summary) + "\n", check);
            return summary;
        }
        catch (SupersededException superseded)
        {
            log?.Invoke(superseded.Message);
            return new Proto.TrialSummary { Name = config.Name, Status = Proto.TrialStatus.Cancelled, FailureReason = superseded.Message };
        }
    }

    /// <summary>The folder's summary if it says this configuration's run completed (or stopped early, or its sweep stopped it); else null.</summary>
    static Proto.TrialSummary? Finished(TrialConfig config, string outputDirectory)
    {
        string path = Path.Combine(outputDirectory, SummaryFile);
        if (!File.Exists(path)) return null;
        Proto.TrialSummary summary;
        try
        {
            summary = Google.Protobuf.JsonParser.Default.Parse<Proto.TrialSummary>(File.ReadAllText(path));
        }
        catch (Google.Protobuf.InvalidProtocolBufferException)
        {
            return null; // not one this tool wrote: the run goes ahead and replaces it
        }
        bool finished = summary.Status is Proto.TrialStatus.Completed or Proto.TrialStatus.EarlyStopped or Proto.TrialStatus.Stopped;
        return finished && summary.ConfigurationHash == config.Hash() ? summary : null;
    }

    /// <summary>metrics.jsonl always holds exactly the epochs of last.ckpt, so a resumed run neither repeats nor loses lines.</summary>
    static void RewriteMetricsFromCheckpoint(string outputDirectory, string metricsPath, Action<string>? log, Action? check)
    {
        string last = Path.Combine(outputDirectory, Trainer.LastCheckpoint);
        if (!File.Exists(last))
        {
            log?.Invoke("no checkpoint: starting from epoch 1");
            check?.Invoke();
            File.Delete(metricsPath);
            return;
        }
        var history = Checkpoint.ReadState(last).History;
        log?.Invoke($"resuming from {last} after epoch {history.Count}");
        AtomicFile.WriteText(metricsPath, string.Concat(history.Select(m => TrialReports.ToJsonLine(m.ToProto()) + "\n")), check);
    }
}
