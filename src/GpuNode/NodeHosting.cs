using Akka.Cluster.Hosting;
using Akka.Cluster.Hosting.SBR;
using Akka.Hosting;
using Akka.Remote.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orchestrator.Protocol;
using Orchestrator.Protocol.V1;

namespace Orchestrator.GpuNode;

/// <summary>Marks the registry entry of the scheduler singleton's proxy on a GPU node.</summary>
public sealed class SchedulerProxy;

/// <param name="SeedNodes">Akka addresses of the nodes to join, e.g. akka.tcp://orchestrator@coordinator:4053; none: join yourself later.</param>
public sealed record NodeSettings(string Hostname, int Port, string[] Roles, string[] SeedNodes)
{
    public const string SystemName = "orchestrator";
    public const string CoordinatorRole = "coordinator";
    public const string GpuRole = "gpu";
    public const string SchedulerName = "scheduler";
}

public static class NodeHosting
{
    /// <summary>A generic host running one cluster member, configured by <paramref name="configure"/>; Akka logs warnings and errors itself.</summary>
    public static IHost BuildHost(Action<AkkaConfigurationBuilder> configure)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddAkka(NodeSettings.SystemName, configure);
        return builder.Build();
    }

    /// <summary>
    /// Where the scheduler singleton lives. Its proxies buffer messages until they find it; the identification-failure
    /// warning is off because a node that starts before its coordinator would print it at every start.
    /// </summary>
    public static readonly ClusterSingletonOptions SchedulerSingleton = new() { Role = NodeSettings.CoordinatorRole, LogSingletonIdentificationFailure = false };

    /// <summary>What every member of the cluster has: remoting, clustering with its roles and split-brain resolver, and the protobuf serializer for cluster messages.</summary>
    public static AkkaConfigurationBuilder AddOrchestratorNode(this AkkaConfigurationBuilder builder, NodeSettings settings) => builder
        .ConfigureLoggers(loggers => loggers.LogLevel = Akka.Event.LogLevel.WarningLevel)
        .WithRemoting(settings.Hostname, settings.Port)
        .WithClustering(new ClusterOptions
        {
            Roles = settings.Roles, SeedNodes = settings.SeedNodes,
            // Akka's default split-brain resolver keeps the side with most members, which after a partition between the
            // coordinator and many GPU nodes would be the nodes, and down the coordinator. Counting only coordinators
            // keeps the side that holds the sweeps; the nodes on the other side are downed and their jobs re-queued.
            SplitBrainResolver = new KeepMajorityOption { Role = NodeSettings.CoordinatorRole },
        })
        .WithCustomSerializer("orchestrator-protobuf", ProtobufSerializer.MessageTypes, system => new ProtobufSerializer(system));

    /// <summary>A GPU node joining a cluster: the agent that offers this node's slots to the coordinator's scheduler.</summary>
    /// <param name="runner">What a slot does with a job (<see cref="SlotWorkers.Run"/>).</param>
    /// <param name="progress">Where epoch progress goes (a <see cref="MetricsUplink"/>); null: to the scheduler, over the cluster.</param>
    /// <param name="metrics">This node's Prometheus instruments; null: none.</param>
    public static AkkaConfigurationBuilder AddGpuNode(this AkkaConfigurationBuilder builder, NodeSettings settings, string nodeName,
        IReadOnlyList<string> slotDevices, JobRunner runner, Action<string>? report, Action<JobProgress>? progress = null, NodeMetrics? metrics = null) => builder
        .AddOrchestratorNode(settings)
        .WithSingletonProxy<SchedulerProxy>(NodeSettings.SchedulerName, SchedulerSingleton)
        .WithActors((system, registry) =>
            system.ActorOf(NodeAgent.Props(nodeName, slotDevices, registry.Get<SchedulerProxy>(), runner, report, progress, metrics), "agent"));
}
