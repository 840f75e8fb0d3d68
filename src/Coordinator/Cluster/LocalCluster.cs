using Akka.Actor;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orchestrator.GpuNode;
using Orchestrator.Hosting;

using Orchestrator.Distillation.Training;

namespace Orchestrator.Coordinator.Cluster;

/// <summary>
/// The whole cluster in this process, for <c>orchestrator local</c> and tests: one actor system with both roles
/// joined to itself on a loopback port, the sweep entities journalled (SQLite or PostgreSQL), and one agent per simulated
/// GPU node, each with its slots.
/// </summary>
public sealed class LocalCluster : IAsyncDisposable
{
    readonly IHost host;
    readonly List<SlotWorkers> workers;

    LocalCluster(IHost host, List<SlotWorkers> workers, ActorSystem system, IActorRef sweeps)
    {
        this.host = host;
        this.workers = workers;
        System = system;
        Sweeps = sweeps;
    }

    public ActorSystem System { get; }
    /// <summary>The sweep entities' shard region.</summary>
    public IActorRef Sweeps { get; }

    /// <summary>This process's member of the local cluster: both roles, on a free loopback port, joining itself.</summary>
    public static readonly NodeSettings Node = new("127.0.0.1", 0, [NodeSettings.CoordinatorRole, NodeSettings.GpuRole], []);

    /// <param name="journal">Where the sweep events go: <see cref="ClusterSettings.Sqlite"/> or <see cref="ClusterSettings.Postgres"/> for <see cref="Node"/>.</param>
    /// <param name="nodeDevices">For each simulated node, the device of each of its slots.</param>
    /// <param name="runner">What slots do with jobs, one at a time; null: train them, each slot in its worker process, in packs.</param>
    /// <param name="logLevel">The least level of the cluster's own log lines (on stderr): a CLI's progress view is its stdout, so only warnings by default.</param>
    public static async Task<LocalCluster> StartAsync(ClusterSettings journal, IReadOnlyList<IReadOnlyList<string>> nodeDevices, CancellationToken cancellation,
        JobRunner? runner = null, LogLevel logLevel = LogLevel.Warning)
    {
        var workers = new List<SlotWorkers>();
        var host = MemberHost.Build(akka => akka
            .AddCoordinator(journal)
            .WithActors((system, registry, resolver) =>
            {
                for (int node = 0; node < nodeDevices.Count; node++)
                {
                    if (runner is null) workers.Add(new SlotWorkers(resolver.GetService<ILogger<SlotWorkers>>()));
                    var props = runner is null
                        ? NodeAgent.Props($"node{node + 1}", nodeDevices[node], registry.Get<Scheduler>(), workers[node].Run, PackSizing.Max, log: resolver.GetService<ILogger<NodeAgent>>())
                        : NodeAgent.Props($"node{node + 1}", nodeDevices[node], registry.Get<Scheduler>(), runner, log: resolver.GetService<ILogger<NodeAgent>>());
                    system.ActorOf(props, $"agent-node{node + 1}");
                }
            }), logToStandardError: true, logLevel);
        await host.StartAsync(cancellation);
        var system = host.Services.GetRequiredService<ActorSystem>();
        var cluster = Akka.Cluster.Cluster.Get(system);
        var up = new TaskCompletionSource();
        cluster.RegisterOnMemberUp(() => up.TrySetResult());
        cluster.Join(cluster.SelfAddress);
        await up.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellation);
        var registry = host.Services.GetRequiredService<ActorRegistry>();
        return new LocalCluster(host, workers, system, registry.Get<SweepEntity>());
    }

    /// <summary>The slot worker processes of the simulated nodes alive now.</summary>
    public IEnumerable<int> WorkerProcessIds => workers.SelectMany(w => w.ProcessIds.Values);

    public async ValueTask DisposeAsync()
    {
        await host.StopAsync();
        host.Dispose();
        foreach (var slots in workers) slots.Dispose();
    }
}
