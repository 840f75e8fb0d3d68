using System.Diagnostics;
using Orchestrator.Distillation;
using Orchestrator.Distillation.Configuration;
using Orchestrator.Distillation.Training;
using Proto = Orchestrator.Protocol.V1;

namespace Orchestrator.Distillation.Trials;

/// <summary>
/// Runs one trial into its own folder (<see cref="TrialFolder"/>): last.ckpt / best.ckpt, metrics.jsonl (one line per
/// epoch) and summary.json. Running it again on the same folder resumes from last.ckpt. A sweep's dispatch is an
/// attempt (<see cref="AttemptFence"/>): it writes nothing once a later attempt owns the folder, and ends cancelled.
/// </summary>
public static class TrialExecution
{
    /// <param name="attempt">The sweep's attempt number of this run (<see cref="Proto.JobSpec.Attempt"/>); 0 for a trial run by hand, which is not fenced.</param>
    /// <param name="stop">Its sweep stopped it (<see cref="TrainerTrial.Stop"/>): it ends after its batch with its best checkpoint's test accuracy.</param>
    public static Proto.TrialSummary Run(TrialConfig config, string outputDirectory, Action<EpochMetrics>? onEpoch = null,
        Action<string>? log = null, CancellationToken cancellation = default, string? softTargetDirectory = null, long attempt = 0, CancellationToken stop = default)
    {
        Proto.TrialSummary? summary = null;
        RunPack([new TrialRequest(config, outputDirectory, attempt) { OnEpoch = onEpoch, Done = s => summary = s, Cancellation = cancellation, Stop = stop }],
            log, softTargetDirectory);
        return summary!;
    }

    /// <summary>
    /// Runs trials as one pack (<see cref="TrialRunner.RunPack"/>), each into its own folder exactly as it would run
    /// alone, reporting each summary as its trial ends; the summaries name the pack when there is more than one trial.
    /// A trial already finished, or whose folder a later attempt owns, is reported at once and not trained; so is one
    /// that finished in another folder of the same store (<see cref="FinishedTrials"/>), whose result it takes.
    /// </summary>
    /// <param name="softTargetDirectory">The store the runs share (soft targets, finished trials); null or empty: the default soft-target store, and no trial reused.</param>
    public static void RunPack(IReadOnlyList<TrialRequest> trials, Action<string>? log = null, string? softTargetDirectory = null)
    {
        var clock = Stopwatch.StartNew();
        string pack = trials.Count > 1 ? $"{trials[0].Attempt}x{trials.Count}" : "";
        var finished = string.IsNullOrEmpty(softTargetDirectory) ? null : new FinishedTrials(softTargetDirectory);
        var training = trials.Select(request => Prepare(request, finished, log)).OfType<TrialRequest>().ToList();
        if (training.Count > 0)
            TrialRunner.RunPack(training, log, softTargetDirectory,
                (trial, result) => Report(trial, result, clock.Elapsed.TotalSeconds / training.Count, pack, finished, log));
    }

    /// <summary>
    /// Writes an ended trial's summary.json and reports it. A pack's trials share its slot: each is charged an equal part
    /// of the time so far, so that slot-seconds add up.
    /// </summary>
    static void Report(TrialRequest request, TrainingResult result, double seconds, string pack, FinishedTrials? finished, Action<string>? log)
    {
        var folder = new TrialFolder(request.OutputDirectory);
        var summary = result.ToSummary(request.Config.Name, request.Config.Model.Name, seconds, folder.BestCheckpoint);
        summary.FinishedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(DateTime.UtcNow);
        summary.Pack = pack;
        try
        {
            folder.WriteSummary(summary, request.Fence is null ? null : request.Fence.Check);
            if (summary.Status is Proto.TrialStatus.Completed or Proto.TrialStatus.EarlyStopped) Remember(finished, summary.ConfigurationHash, folder, log);
        }
        catch (SupersededException superseded)
        {
            summary = Superseded(request, superseded, log);
        }
        request.Done?.Invoke(summary);
    }

    /// <summary>Indexes a finished trial for reuse; the store failing to take it (a full disk) costs a later sweep a training, not this trial its result.</summary>
    static void Remember(FinishedTrials? finished, string identity, TrialFolder folder, Action<string>? log)
    {
        try
        {
            finished?.Add(identity, folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log?.Invoke($"could not index the finished trial in {finished!.Directory} ({e.Message}); a later sweep trains it again");
        }
    }

    /// <summary>
    /// Claims the trial's folder and makes metrics.jsonl match its last checkpoint: the request with its fence, and its
    /// epochs written to metrics.jsonl as they come; null when there is nothing to train (its folder says it finished,
    /// or a later attempt owns it), after reporting its summary.
    /// </summary>
    static TrialRequest? Prepare(TrialRequest request, FinishedTrials? finished, Action<string>? log)
    {
        Directory.CreateDirectory(request.OutputDirectory);
        var folder = new TrialFolder(request.OutputDirectory);
        var fence = request.Attempt > 0 ? new AttemptFence(request.OutputDirectory, request.Attempt) : null;
        Action? check = fence is null ? null : fence.Check;
        try
        {
            fence?.NotSuperseded();
            string identity = request.Config.Hash();
            if (Finished(identity, folder) is { } done)
            {
                // Dispatched again after it finished (its report went to a coordinator that died before storing it):
                // its result stands, and nothing in its folder changes.
                log?.Invoke($"{request.Config.Name}: already finished: reporting the summary it wrote");
                request.Done?.Invoke(done);
                return null;
            }
            fence?.Claim();
            if (finished?.Find(identity, folder) is { } elsewhere)
            {
                log?.Invoke($"{request.Config.Name}: the same trial finished in {elsewhere.Folder.Directory}: taking its result instead of training again");
                request.Done?.Invoke(FinishedTrials.CopyResult(elsewhere.Folder, elsewhere.Summary, folder, check));
                return null;
            }
            RewriteMetricsFromCheckpoint(folder, log, check);
        }
        catch (SupersededException superseded)
        {
            request.Done?.Invoke(Superseded(request, superseded, log));
            return null;
        }
        return request with
        {
            Fence = fence,
            OnEpoch = metrics =>
            {
                check?.Invoke();
                folder.AppendEpoch(metrics.ToProto());
                request.OnEpoch?.Invoke(metrics);
            },
        };
    }

    static Proto.TrialSummary Superseded(TrialRequest request, SupersededException superseded, Action<string>? log)
    {
        log?.Invoke(superseded.Message);
        return new Proto.TrialSummary { Name = request.Config.Name, Status = Proto.TrialStatus.Cancelled, FailureReason = superseded.Message };
    }

    /// <summary>The folder's summary if it says this configuration's run completed (or stopped early, or its sweep stopped it); else null.</summary>
    /// <remarks>One this tool did not write counts as none: the run goes ahead and replaces it.</remarks>
    static Proto.TrialSummary? Finished(string identity, TrialFolder folder) =>
        folder.ReadSummary() is { Status: Proto.TrialStatus.Completed or Proto.TrialStatus.EarlyStopped or Proto.TrialStatus.Stopped } summary
        && summary.ConfigurationHash == identity
            ? summary
            : null;

    /// <summary>metrics.jsonl always holds exactly the epochs of last.ckpt, so a resumed run neither repeats nor loses lines.</summary>
    static void RewriteMetricsFromCheckpoint(TrialFolder folder, Action<string>? log, Action? check)
    {
        if (!File.Exists(folder.LastCheckpoint))
        {
            log?.Invoke("no checkpoint: starting from epoch 1");
            folder.RewriteEpochs([], check);
            return;
        }
        var history = Checkpoint.ReadState(folder.LastCheckpoint).History;
        log?.Invoke($"resuming from {folder.LastCheckpoint} after epoch {history.Count}");
        folder.RewriteEpochs(history.Select(m => m.ToProto()).ToList(), check);
    }
}
