using System.Diagnostics;
using Orchestrator.Distillation;
using Orchestrator.Distillation.Configuration;
using Orchestrator.Distillation.Training;
using Proto = Orchestrator.Protocol.V1;

namespace Orchestrator.GpuNode;

/// <summary>
/// Runs one trial into its own folder: last.ckpt / best.ckpt, metrics.jsonl (one line per epoch) and
/// summary.json. Running it again on the same folder resumes from last.ckpt.
/// </summary>
public static class TrialExecution
{
    public const string MetricsFile = "metrics.jsonl";
    public const string SummaryFile = "summary.json";

    public static Proto.TrialSummary Run(TrialConfig config, string outputDirectory, Action<EpochMetrics>? onEpoch = null,
        Action<string>? log = null, CancellationToken cancellation = default, string? softTargetDirectory = null)
    {
        Directory.CreateDirectory(outputDirectory);
        var clock = Stopwatch.StartNew();
        string metricsPath = Path.Combine(outputDirectory, MetricsFile);
        RewriteMetricsFromCheckpoint(outputDirectory, metricsPath, log);

        var outcome = TrialRunner.Run(config, outputDirectory, metrics =>
        {
            File.AppendAllText(metricsPath, TrialReports.ToJsonLine(metrics.ToProto()) + "\n");
            onEpoch?.Invoke(metrics);
        }, log, cancellation, softTargetDirectory);

        var summary = outcome.ToSummary(config.Name, config.Model.Name, clock.Elapsed.TotalSeconds,
            Path.Combine(outputDirectory, Trainer.BestCheckpoint));
        AtomicFile.WriteText(Path.Combine(outputDirectory, SummaryFile), TrialReports.ToIndentedJson(summary) + "\n");
        return summary;
    }

    /// <summary>metrics.jsonl always holds exactly the epochs of last.ckpt, so a resumed run neither repeats nor loses lines.</summary>
    static void RewriteMetricsFromCheckpoint(string outputDirectory, string metricsPath, Action<string>? log)
    {
        string last = Path.Combine(outputDirectory, Trainer.LastCheckpoint);
        if (!File.Exists(last))
        {
            File.Delete(metricsPath);
            return;
        }
        var history = Checkpoint.ReadState(last).History;
        log?.Invoke($"resuming from {last} after epoch {history.Count}");
        AtomicFile.WriteText(metricsPath, string.Concat(history.Select(m => TrialReports.ToJsonLine(m.ToProto()) + "\n")));
    }
}
