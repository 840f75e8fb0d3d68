using Akka.Cluster.Hosting;
using Akka.Cluster.Hosting.SBR;
using Akka.Hosting;
using Akka.Remote.Hosting;

namespace Orchestrator.Hosting;

/// <summary>Marks the registry entry of the scheduler singleton (or of its proxy, on a GPU node).</summary>
public sealed class SchedulerProxy;

public static class ClusterMember
{
    /// <summary>
    /// Where the scheduler singleton lives. Its proxies buffer messages until they find it; the identification-failure
    /// warning is off because a node that starts before its coordinator would print it at every start.
    /// </summary>
    public static readonly ClusterSingletonOptions SchedulerSingleton = new() { Role = NodeSettings.CoordinatorRole, LogSingletonIdentificationFailure = false };

    /// <summary>
    /// How long a member the cluster removed (downed, or its coordinator gone) waits before it starts a new actor system
    /// and joins again: long enough for its old incarnation's port and membership to clear.
    /// </summary>
    public static readonly TimeSpan RejoinDelay = TimeSpan.FromSeconds(2);

    /// <summary>
    /// What every member of the cluster has: Akka's warnings and errors in the host's <c>ILoggerFactory</c>, remoting,
    /// clustering with its roles and split-brain resolver, and the protobuf serializer for cluster messages.
    /// </summary>
    public static AkkaConfigurationBuilder AddOrchestratorMember(this AkkaConfigurationBuilder builder, NodeSettings settings) => builder
        .ConfigureLoggers(loggers =>
        {
            // Akka's own warnings and errors; the orchestrator's actors log through ILogger<T> themselves.
            loggers.LogLevel = Akka.Event.LogLevel.WarningLevel;
            loggers.ClearLoggers();
            loggers.AddLoggerFactory();
        })
        .WithRemoting(settings.Hostname, settings.Port)
        .WithClustering(new ClusterOptions
        {
            Roles = settings.Roles, SeedNodes = settings.SeedNodes,
            // Akka's default split-brain resolver keeps the side with most members, which after a partition between the
            // coordinator and many GPU nodes would be the nodes, and down the coordinator. Counting only coordinators
            // keeps the side that holds the sweeps; the nodes on the other side are downed and their jobs re-queued.
            SplitBrainResolver = new KeepMajorityOption { Role = NodeSettings.CoordinatorRole },
        })
        // By default the resolver downs every member, the coordinator too, when reachability keeps changing for longer
        // than stable-after plus 3/4 of it: nodes stopped and restarted one after another (scripts/chaos.sh) did that,
        // and a downed coordinator holds no sweep. Counting coordinators only, the side that holds the sweeps is known
        // however unstable the nodes are, so the resolver waits for a stable view and downs the others then.
        .AddHocon("akka.cluster.split-brain-resolver.down-all-when-unstable = off", HoconAddMode.Prepend)
        .WithCustomSerializer("orchestrator-protobuf", ProtobufSerializer.MessageTypes, system => new ProtobufSerializer(system));
}
