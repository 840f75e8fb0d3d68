using Akka.Actor;
using Akka.Cluster.Sharding;
using Orchestrator.Coordinator.Cluster;

namespace Orchestrator.Coordinator.Api;

/// <summary>What the coordinator's API works with: the sweep shard region, and where sweeps write.</summary>
/// <param name="system">The coordinator's actor system, found once it runs (services are made before it starts).</param>
public sealed class CoordinatorContext(Func<ActorSystem> system, string outputDirectory, string softTargetStore)
{
    public ActorSystem System => system();

    /// <summary>The sweep entities' shard region.</summary>
    public IActorRef Sweeps => ClusterSharding.Get(System).ShardRegion(OrchestratorCluster.SweepRegionName);
    public string OutputDirectory { get; } = outputDirectory;
    public string SoftTargetStore { get; } = softTargetStore;

    /// <summary>The ids of every sweep the shard region holds (sweeps are remembered entities, so each one it ever accepted).</summary>
    public async Task<IReadOnlyList<string>> SweepIds(CancellationToken cancellation)
    {
        var state = await Sweeps.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, TimeSpan.FromSeconds(10), cancellation);
        return state.Shards.SelectMany(s => s.EntityIds).Order(StringComparer.Ordinal).ToList();
    }
}
