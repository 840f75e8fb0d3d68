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
/// <summary>One trial of a pack as <see cref="TrialExecution.RunPack"/> runs it.</summary>
/// <param name="Attempt">The sweep's attempt number of this run (<see cref="Proto.JobSpec.Attempt"/>); 0 for a trial run by hand, which is not fenced.</param>
/// <param name="Done">Receives the trial's summary once, when it ends.</param>
/// <param name="Stop">Its sweep stopped it: it ends after its batch with its best checkpoint's test accuracy.</param>
public sealed record TrialRequest(TrialConfig Config, string OutputDirectory, long Attempt, Action<EpochMetrics>? OnEpoch, Action<Proto.TrialSummary> Done,
    CancellationToken Cancellation = default, CancellationToken Stop = default);

public static class TrialExecution
{
    public const string MetricsFile = "metrics.jsonl";
    public const string SummaryFile = "summary.json";

    /// <param name="attempt">The sweep's attempt number of this run (<see cref="Proto.JobSpec.Attempt"/>); 0 for a trial run by hand, which is not fenced.</param>
    /// <param name="stop">Its sweep stopped it (<see cref="TrainerTrial.Stop"/>): it ends after its batch with its best checkpoint's test accuracy.</param>
    public static Proto.TrialSummary Run(TrialConfig config, string outputDirectory, Action<EpochMetrics>? onEpoch = null,
        Action<string>? log = null, CancellationToken cancellation = default, string? softTargetDirectory = null, long attempt = 0, CancellationToken stop = default)
    {
        Proto.TrialSummary? summary = null;
        RunPack([new TrialRequest(config, outputDirectory, attempt, onEpoch, s => summary = s, cancellation, stop)], log, softTargetDirectory);
        return summary!;
    }

    /// <summary>
    /// Runs trials as one pack (<see cref="TrialRunner.RunPack"/>), each into its own folder exactly as it would run
    /// alone, reporting each summary as its trial ends; the summaries name the pack when there is more than one trial.
    /// A trial already finished, or whose folder a later attempt owns, is reported at once and not trained.
    /// </summary>
    public static void RunPack(IReadOnlyList<TrialRequest> trials, Action<string>? log = null, string? softTargetDirectory = null)
    {
        var clock = Stopwatch.StartNew();
        string pack = trials.Count > 1 ? $"{trials[0].Attempt}x{trials.Count}" : "";
        var training = new List<PackTrial>();
        foreach (var request in trials)
            if (Prepare(request, log) is { } trial)
                training.Add(trial with { OnEnd = outcome => Report(request, trial, outcome, clock.Elapsed.TotalSeconds / training.Count, pack, log) });
        if (training.Count > 0) TrialRunner.RunPack(training, log, softTargetDirectory);
    }

    /// <summary>
    /// Writes an ended trial's summary.json and reports it. A pack's trials share its slot: each is charged an equal part
    /// of the time so far, so that slot-seconds add up.
    /// </summary>
    static void Report(TrialRequest request, PackTrial trial, TrialOutcome outcome, double seconds, string pack, Action<string>? log)
    {
        var summary = outcome.ToSummary(request.Config.Name, request.Config.Model.Name, seconds, Path.Combine(request.OutputDirectory, Trainer.BestCheckpoint));
        summary.FinishedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(DateTime.UtcNow);
        summary.Pack = pack;
        try
        {
            AtomicFile.WriteText(Path.Combine(request.OutputDirectory, SummaryFile), TrialReports.ToIndentedJson(summary) + "\n", trial.Fence is null ? null : trial.Fence.Check);
        }
        catch (SupersededException superseded)
        {
            summary = Superseded(request, superseded, log);
        }
        request.Done(summary);
    }

    /// <summary>
    /// Claims the trial's folder and makes metrics.jsonl match its last checkpoint; null when there is nothing to train
    /// (its folder says it finished, or a later attempt owns it), after reporting its summary.
    /// </summary>
    static PackTrial? Prepare(TrialRequest request, Action<string>? log)
    {
        Directory.CreateDirectory(request.OutputDirectory);
        var fence = request.Attempt > 0 ? new AttemptFence(request.OutputDirectory, request.Attempt) : null;
        Action? check = fence is null ? null : fence.Check;
        string metricsPath = Path.Combine(request.OutputDirectory, MetricsFile);
        try
        {
            fence?.NotSuperseded();
            if (Finished(request.Config, request.OutputDirectory) is { } finished)
            {
                // Dispatched again after it finished (its report went to a coordinator that died before storing it):
                // its result stands, and nothing in its folder changes.
                log?.Invoke($"{request.Config.Name}: already finished: reporting the summary it wrote");
                request.Done(finished);
                return null;
            }
            fence?.Claim();
            RewriteMetricsFromCheckpoint(request.OutputDirectory, metricsPath, log, check);
        }
        catch (SupersededException superseded)
        {
            request.Done(Superseded(request, superseded, log));
            return null;
        }
        return new PackTrial(request.Config, request.OutputDirectory, metrics =>
        {
            check?.Invoke();
            File.AppendAllText(metricsPath, TrialReports.ToJsonLine(metrics.ToProto()) + "\n");
            request.OnEpoch?.Invoke(metrics);
        }, request.Cancellation, fence, request.Stop);
    }

    static Proto.TrialSummary Superseded(TrialRequest request, SupersededException superseded, Action<string>? log)
    {
        log?.Invoke(superseded.Message);
        return new Proto.TrialSummary { Name = request.Config.Name, Status = Proto.TrialStatus.Cancelled, FailureReason = superseded.Message };
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
