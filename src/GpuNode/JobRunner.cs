using Orchestrator.Distillation.Configuration;
using Orchestrator.Protocol.V1;

namespace Orchestrator.GpuNode;

/// <summary>What a slot does with one job, on the slot's own thread; returns the job's summary. <see cref="SlotWorkers.Run"/> is the real one.</summary>
public delegate TrialSummary JobRunner(JobSpec job, int slot, string device, Action<EpochMetrics> onEpoch, CancellationToken cancellation);

public static class JobExecution
{
    /// <summary>
    /// Runs the job in this process on <paramref name="device"/>, into the job's output folder: a teacher or student
    /// trial (resuming from its last checkpoint), or a soft-target job. What a slot worker does with each job it is sent.
    /// </summary>
    /// <param name="log">What the trial tells as it starts (resumed or not, its data and model); null: nothing.</param>
    public static TrialSummary Run(JobSpec job, string device, Action<EpochMetrics> onEpoch, CancellationToken cancellation, Action<string>? log = null) => job.Kind switch
    {
        JobKind.SoftTargetShard or JobKind.SoftTargets => SoftTargetExecution.Run(job, device),
        _ => TrialExecution.Run(TrialJson.Read(job.WorkJson) with { Device = device }, job.OutputDirectory, m => onEpoch(m.ToProto()), log, cancellation,
            job.SoftTargetStore, job.Attempt),
    };
}
