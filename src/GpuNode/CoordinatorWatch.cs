using Akka.Actor;
using Akka.Cluster;
using Microsoft.Extensions.Logging;
using Orchestrator.Hosting;

namespace Orchestrator.GpuNode;

/// <summary>
/// Leaves the cluster when its last coordinator has left it (a coordinator stopped with SIGTERM leaves cleanly): a
/// cluster of GPU nodes alone holds no sweeps, and a restarted coordinator forms a new cluster that members of the
/// old one would never join. Leaving ends this node's actor system, and <see cref="GpuNodeHost.RunAsync"/> starts the
/// node again to join the seed nodes afresh. (A coordinator killed outright is the split-brain resolver's case: it
/// downs this side, which ends the actor system the same way.)
/// </summary>
public sealed class CoordinatorWatch : ReceiveActor
{
    readonly HashSet<Address> coordinators = [];

    public CoordinatorWatch(ILogger log)
    {
        var cluster = Akka.Cluster.Cluster.Get(Context.System);
        Receive<ClusterEvent.MemberUp>(up =>
        {
            if (up.Member.HasRole(NodeSettings.CoordinatorRole)) coordinators.Add(up.Member.Address);
        });
        Receive<ClusterEvent.MemberRemoved>(removed =>
        {
            if (!coordinators.Remove(removed.Member.Address) || coordinators.Count > 0) return;
            // A node that is leaving itself (SIGTERM) sees every other member removed on its way out: nothing to say.
            if (cluster.SelfMember.Status is not MemberStatus.Up and not MemberStatus.WeaklyUp) return;
            log.LogWarning("the coordinator {Coordinator} left the cluster; leaving too, to join the next one", removed.Member.Address);
            cluster.Leave(cluster.SelfAddress);
        });
        Receive<ClusterEvent.IMemberEvent>(_ => { });
    }

    public static Props Props(ILogger log) => Akka.Actor.Props.Create(() => new CoordinatorWatch(log));

    protected override void PreStart() => Akka.Cluster.Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
        typeof(ClusterEvent.MemberUp), typeof(ClusterEvent.MemberRemoved));

    protected override void PostStop() => Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);
}
