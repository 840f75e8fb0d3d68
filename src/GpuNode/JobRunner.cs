using Orchestrator.Distillation.Configuration;
using Orchestrator.Protocol.V1;

namespace Orchestrator.GpuNode;

/// <summary>The work a slot does for one job, on the slot's own thread; returns the job's summary.</summary>
public delegate TrialSummary JobRunner(JobSpec job, string device, Action<Distillation.Training.EpochMetrics> onEpoch, CancellationToken cancellation);

public static class JobRunners
{
    /// <summary>
    /// Runs the job on the slot's device, into the job's output folder: a teacher or student trial (resuming from
    /// its last checkpoint), or a soft-target job.
    /// </summary>
    public static TrialSummary Run(JobSpec job, string device, Action<Distillation.Training.EpochMetrics> onEpoch, CancellationToken cancellation) => job.Kind switch
    {
        JobKind.SoftTargetShard or JobKind.SoftTargets => SoftTargetExecution.Run(job, device),
        _ => TrialExecution.Run(TrialJson.Read(job.WorkJson) with { Device = device }, job.OutputDirectory, onEpoch, log: null, cancellation, job.SoftTargetStore),
    };
}
