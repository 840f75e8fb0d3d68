using Orchestrator.Distillation.Configuration;
using Orchestrator.Protocol.V1;

namespace Orchestrator.GpuNode;

/// <summary>The work a slot does for one job, on the slot's own thread; returns the job's summary.</summary>
public delegate TrialSummary JobRunner(JobSpec job, string device, Action<Distillation.Training.EpochMetrics> onEpoch, CancellationToken cancellation);

public static class JobRunners
{
    /// <summary>Trains the job's trial on the slot's device, into the job's output folder (resuming from its last checkpoint).</summary>
    public static TrialSummary Train(JobSpec job, string device, Action<Distillation.Training.EpochMetrics> onEpoch, CancellationToken cancellation) =>
        TrialExecution.Run(TrialJson.Read(job.TrialJson) with { Device = device }, job.OutputDirectory, onEpoch, log: null, cancellation);
}
