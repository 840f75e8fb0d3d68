using Akka.Cluster.Sharding;
using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.Cluster;

/// <summary>Routes sweep commands to their entity by sweep id.</summary>
public sealed class SweepMessageExtractor() : HashCodeMessageExtractor(maxNumberOfShards: 30)
{
    public override string? EntityId(object message) => message switch
    {
        SubmitSweep m => m.SweepId,
        JobAssigned m => m.SweepId,
        JobFinished m => m.SweepId,
        JobLost m => m.SweepId,
        JobProgress m => m.SweepId,
        ProposeJobs m => m.SweepId,
        GetSweepStatus m => m.SweepId,
        CancelSweep m => m.SweepId,
        RetrySweep m => m.SweepId,
        _ => null,
    };
}
