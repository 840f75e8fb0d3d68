using Akka.Actor;
using Orchestrator.Coordinator.Sweeps;
using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.Cluster;

/// <summary>Asking the sweep entities' shard region, in this process: what the API, the followers and <c>local</c> share.</summary>
public static class SweepRegion
{
    static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Hands the plan to its sweep entity; a changed sweep under a used name fails (InvalidOperationException).</summary>
    public static Task<SweepAccepted> Submit(IActorRef sweeps, SweepPlan plan, string softTargetStore, CancellationToken cancellation) =>
        sweeps.Ask<SweepAccepted>(SweepSubmission.From(plan, softTargetStore), AskTimeout, cancellation);

    public static Task<SweepStatus> Status(IActorRef sweeps, string sweep, CancellationToken cancellation) =>
        sweeps.Ask<SweepStatus>(new GetSweepStatus { SweepId = sweep }, AskTimeout, cancellation);

    /// <summary>The sweep's status once it is complete (asked once a second).</summary>
    public static async Task<SweepStatus> Completed(IActorRef sweeps, string sweep, CancellationToken cancellation)
    {
        while (true)
        {
            var status = await Status(sweeps, sweep, cancellation);
            if (status.Complete) return status;
            await Task.Delay(TimeSpan.FromSeconds(1), cancellation);
        }
    }
}
