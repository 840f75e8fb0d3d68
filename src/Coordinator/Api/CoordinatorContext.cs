using Akka.Actor;
using Akka.Cluster.Sharding;
using Orchestrator.Coordinator.Cluster;
using Orchestrator.Distillation.Configuration;
using Orchestrator.Distillation.Data;

namespace Orchestrator.Coordinator.Api;

/// <summary>What the coordinator's API works with: the sweep shard region, where sweeps write, and what they may read.</summary>
/// <param name="system">The coordinator's actor system, found once it runs (services are made before it starts).</param>
/// <param name="allowedPaths">--allow-path: more folders whose files submitted sweeps may name.</param>
public sealed class CoordinatorContext(Func<ActorSystem> system, string outputDirectory, string softTargetStore, IReadOnlyList<string>? allowedPaths = null)
{
    public ActorSystem System => system();

    /// <summary>The sweep entities' shard region.</summary>
    public IActorRef Sweeps => ClusterSharding.Get(System).ShardRegion(OrchestratorCluster.SweepRegionName);
    public string OutputDirectory { get; } = outputDirectory;
    public string SoftTargetStore { get; } = softTargetStore;

    /// <summary>
    /// Where a sweep submitted over the API may name files (teachers, TorchScript files, datasets): the datasets' root
    /// (--data-dir), the soft-target store, the coordinator's output folder (teachers earlier sweeps trained), and --allow-path.
    /// </summary>
    public ReadableRoots ReadableRoots { get; } = ReadableRoots.Of(
        [DataOptions.ConfiguredRoot, softTargetStore, outputDirectory, .. allowedPaths ?? []],
        "start the coordinator with --allow-path DIR to let sweeps read files under DIR (or --data-dir for datasets).");

    /// <summary>The ids of every sweep the shard region holds (<see cref="SweepRegion.Ids"/>).</summary>
    public Task<IReadOnlyList<string>> SweepIds(CancellationToken cancellation) => SweepRegion.Ids(Sweeps, cancellation);
}
