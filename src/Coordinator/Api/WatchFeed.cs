using Akka.Actor;
using Akka.Cluster;
using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.Api;

/// <summary>
/// Records in the <see cref="WatchHub"/> what the coordinator's actors publish (sweep and job state changes from the
/// sweep entities, epoch progress that nodes without a metrics stream send over the cluster) and cluster members
/// coming up and leaving; and hands the metrics (finished jobs, scheduler load, dispatch and journal latency) to Prometheus's instruments.
/// </summary>
public sealed class WatchFeed : ReceiveActor
{
    public WatchFeed(WatchHub hub, MetricsSink metrics, CoordinatorMetrics instruments)
    {
        Receive<SweepStateChanged>(e => hub.Append(new WatchEvent { Sweep = e }));
        Receive<JobStateChanged>(e =>
        {
            hub.Append(new WatchEvent { Job = e });
            metrics.Changed(e);
            instruments.JobChanged(e);
        });
        Receive<JobProgress>(p => metrics.Apply([p]));
        Receive<Cluster.Scheduler.Load>(instruments.SchedulerLoad);
        Receive<Cluster.Scheduler.Dispatched>(d => instruments.Dispatched(d.Waited));
        Receive<Cluster.SweepEntity.JournalWritten>(w => instruments.JournalWritten(w.Latency));
        Receive<ClusterEvent.MemberUp>(up => hub.Append(Node(up.Member, "up")));
        Receive<ClusterEvent.MemberRemoved>(removed => hub.Append(Node(removed.Member, "left")));
        Receive<ClusterEvent.IMemberEvent>(_ => { });
    }

    public static Props Props(WatchHub hub, MetricsSink metrics, CoordinatorMetrics instruments) =>
        Akka.Actor.Props.Create(() => new WatchFeed(hub, metrics, instruments));

    static WatchEvent Node(Member member, string state) =>
        new() { Node = new NodeEvent { Address = member.Address.ToString(), Roles = { member.Roles }, State = state } };

    protected override void PreStart()
    {
        Type[] published = [typeof(SweepStateChanged), typeof(JobStateChanged), typeof(JobProgress), typeof(Cluster.Scheduler.Load), typeof(Cluster.Scheduler.Dispatched),
            typeof(Cluster.SweepEntity.JournalWritten)];
        foreach (var type in published)
            Context.System.EventStream.Subscribe(Self, type);
        Akka.Cluster.Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(ClusterEvent.MemberUp), typeof(ClusterEvent.MemberRemoved));
    }

    protected override void PostStop()
    {
        Context.System.EventStream.Unsubscribe(Self);
        Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);
    }
}
