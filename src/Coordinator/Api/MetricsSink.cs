using System.Collections.Concurrent;
using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.Api;

/// <summary>
/// Where every metric point a node reports lands, whichever way it came (the Metrics stream, or the cluster for
/// nodes without an API endpoint): the job's latest metrics, which Get and Results show with the job's state, and
/// the Watch streams.
/// </summary>
public sealed class MetricsSink(WatchHub hub, CoordinatorMetrics instruments)
{
    readonly ConcurrentDictionary<(string Sweep, string Job), EpochMetrics> latest = new();

    public void Apply(string node, IReadOnlyCollection<MetricPoint> points)
    {
        foreach (var point in points) latest[(point.SweepId, point.JobId)] = point.Metrics;
        instruments.Ingested(points.Count);
        hub.AppendAll(points.Select(point => new WatchEvent
        {
            Metrics = new EpochMetricsEvent { SweepId = point.SweepId, JobId = point.JobId, Node = node, Slot = point.Slot, Epochs = point.Epochs, Metrics = point.Metrics },
        }));
    }

    /// <summary>Adds each running job's latest metrics to a sweep's status.</summary>
    public SweepStatus WithLatest(SweepStatus status)
    {
        foreach (var job in status.Jobs.Where(j => j.State == Cluster.SweepEntity.Running))
            if (latest.TryGetValue((status.SweepId, job.JobId), out var metrics)) job.Latest = metrics;
        return status;
    }
}
