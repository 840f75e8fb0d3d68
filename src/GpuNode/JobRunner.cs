using Orchestrator.Distillation.Configuration;
using Orchestrator.Distillation.Trials;
using Orchestrator.Protocol;
using Orchestrator.Protocol.V1;

namespace Orchestrator.GpuNode;

/// <summary>
/// How a running job is told to end early: <see cref="Cancellation"/> when its node stops or its sweep is cancelled (it
/// runs again later, from its last checkpoint), <see cref="Stop"/> when its sweep stopped it for good (early
/// termination: it ends with its best checkpoint's test accuracy, <see cref="TrialStatus.Stopped"/>).
/// </summary>
public readonly record struct JobSignals(CancellationToken Cancellation, CancellationToken Stop);

/// <summary>What a slot does with one job, on the slot's own thread; returns the job's summary.</summary>
public delegate TrialSummary JobRunner(JobSpec job, int slot, string device, Action<EpochMetrics> onEpoch, JobSignals signals);

/// <summary>One job of a pack as a slot runs it: where its epochs and its summary go, and how it is told to end.</summary>
public sealed record PackedJob(JobSpec Job, Action<EpochMetrics> OnEpoch, JobSignals Signals, Action<TrialSummary> Done);

/// <summary>
/// What a slot does with a pack of jobs that train as one (a single job is a pack of one), on the slot's own thread:
/// calls each job's <see cref="PackedJob.Done"/> once, as it ends, and returns when all have. <see cref="SlotWorkers.Run"/> is the real one.
/// </summary>
public delegate void PackRunner(IReadOnlyList<PackedJob> jobs, int slot, string device);

public static class PackRunners
{
    /// <summary>A runner of single jobs as a pack runner: each job of a pack after the other (for slots that offer no packs).</summary>
    public static PackRunner OneAtATime(JobRunner runner) => (jobs, slot, device) =>
    {
        foreach (var job in jobs) job.Done(runner(job.Job, slot, device, job.OnEpoch, job.Signals));
    };
}

public static class JobExecution
{
    /// <summary>
    /// Runs the jobs in this process on <paramref name="device"/>, each into its output folder: teacher or student
    /// trials (as one pack, each resuming from its last checkpoint), or one soft-target job. What a slot worker does
    /// with each pack it is sent; <paramref name="done"/> hears each job's summary as it ends.
    /// </summary>
    /// <param name="log">What the trials tell as they start (resumed or not, their data and model); null: nothing.</param>
    /// <remarks>A job its sweep stopped before this attempt (<see cref="JobSpec.StopReason"/>) trains no epoch: it only reports its best checkpoint's test accuracy.</remarks>
    public static void Run(IReadOnlyList<JobSpec> jobs, string device, Action<JobSpec, EpochMetrics> onEpoch, Func<JobSpec, JobSignals> signals,
        Action<JobSpec, TrialSummary> done, Action<string>? log = null)
    {
        if (!JobKinds.TrainsTrial(jobs[0].Kind))
        {
            foreach (var job in jobs) done(job, SoftTargetExecution.Run(job, device));
            return;
        }
        TrialExecution.RunPack(jobs.Select(job => new TrialRequest(TrialJson.Read(job.WorkJson) with { Device = device }, job.OutputDirectory, job.Attempt)
        {
            OnEpoch = m => onEpoch(job, m.ToProto()),
            Done = summary => done(job, summary),
            Cancellation = signals(job).Cancellation,
            Stop = job.StopReason.Length > 0 ? new CancellationToken(canceled: true) : signals(job).Stop,
        }).ToList(), log, jobs[0].SoftTargetStore);
    }
}
