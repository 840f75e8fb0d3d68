using Orchestrator.Distillation.Configuration;
using Orchestrator.Protocol.V1;

namespace Orchestrator.GpuNode;

/// <summary>
/// How a running job is told to end early: <see cref="Cancellation"/> when its node stops or its sweep is cancelled (it
/// runs again later, from its last checkpoint), <see cref="Stop"/> when its sweep stopped it for good (early
/// termination: it ends with its best checkpoint's test accuracy, <see cref="TrialStatus.Stopped"/>).
/// </summary>
public readonly record struct JobSignals(CancellationToken Cancellation, CancellationToken Stop);

/// <summary>What a slot does with one job, on the slot's own thread; returns the job's summary. <see cref="SlotWorkers.Run"/> is the real one.</summary>
public delegate TrialSummary JobRunner(JobSpec job, int slot, string device, Action<EpochMetrics> onEpoch, JobSignals signals);

public static class JobExecution
{
    /// <summary>
    /// Runs the job in this process on <paramref name="device"/>, into the job's output folder: a teacher or student
    /// trial (resuming from its last checkpoint), or a soft-target job. What a slot worker does with each job it is sent.
    /// </summary>
    /// <param name="log">What the trial tells as it starts (resumed or not, its data and model); null: nothing.</param>
    /// <remarks>A job its sweep stopped before this attempt (<see cref="JobSpec.StopReason"/>) trains no epoch: it only reports its best checkpoint's test accuracy.</remarks>
    public static TrialSummary Run(JobSpec job, string device, Action<EpochMetrics> onEpoch, JobSignals signals, Action<string>? log = null) => job.Kind switch
    {
        JobKind.SoftTargetShard or JobKind.SoftTargets => SoftTargetExecution.Run(job, device),
        _ => TrialExecution.Run(TrialJson.Read(job.WorkJson) with { Device = device }, job.OutputDirectory, m => onEpoch(m.ToProto()), log, signals.Cancellation,
            job.SoftTargetStore, job.Attempt, job.StopReason.Length > 0 ? new CancellationToken(canceled: true) : signals.Stop),
    };
}
