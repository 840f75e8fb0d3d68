using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Orchestrator.Coordinator.Commands;
using Orchestrator.Coordinator.Sweeps;

namespace Orchestrator.Coordinator.Api;

/// <summary>
/// What the coordinator's API works with: the sweep shard region, where sweeps write, and the followers that
/// print a sweep's progress and write its results.csv when it completes (one per sweep, however it was submitted).
/// </summary>
public sealed class CoordinatorContext(IActorRef sweeps, string outputDirectory, string softTargetStore, SweepProgressView view, CancellationToken stopping)
{
    readonly ConcurrentDictionary<string, Task> followers = new();

    public IActorRef Sweeps { get; } = sweeps;
    public string OutputDirectory { get; } = outputDirectory;
    public string SoftTargetStore { get; } = softTargetStore;

    /// <summary>Starts following the sweep unless it is followed already; the task ends when the sweep completes or the server stops.</summary>
    public Task Follow(SweepPlan plan) => followers.GetOrAdd(plan.Sweep.Name, _ => Task.Run(async () =>
    {
        try
        {
            var status = await SweepWatch.FollowLines(Sweeps, plan.Sweep.Name, view, stopping);
            SweepWatch.Report(status, plan.Directory);
        }
        catch (OperationCanceledException) { }
    }));

    /// <summary>The ids of every sweep the shard region holds (sweeps are remembered entities, so each one it ever accepted).</summary>
    public async Task<IReadOnlyList<string>> SweepIds(CancellationToken cancellation)
    {
        var state = await Sweeps.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, TimeSpan.FromSeconds(10), cancellation);
        return state.Shards.SelectMany(s => s.EntityIds).Order(StringComparer.Ordinal).ToList();
    }
}
