using System.Collections.Concurrent;
using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.Api;

/// <summary>
/// Where every epoch a node reports lands, whichever way it came (the Metrics stream, or the cluster for nodes
/// without an API endpoint), as the node sent it: the job's latest metrics, which Get and Results show with the
/// job's state, the Watch streams, and the count of points received.
/// </summary>
public sealed class MetricsSink(WatchHub hub, CoordinatorMetrics instruments)
{
    readonly ConcurrentDictionary<(string Sweep, string Job), EpochMetrics> latest = new();

    public void Apply(IReadOnlyCollection<JobProgress> points)
    {
        foreach (var point in points) latest[(point.SweepId, point.JobId)] = point.Metrics;
        instruments.Ingested(points.Count);
        hub.AppendAll(points.Select(point => new WatchEvent { Metrics = point }));
    }

    /// <summary>Drops a job's latest metrics once it is no longer running (only running jobs show them), so that they are held for the running jobs only.</summary>
    public void Changed(JobStateChanged change)
    {
        if (change.State != JobState.Running) latest.TryRemove((change.SweepId, change.JobId), out _);
    }

    /// <summary>Adds each running job's latest metrics to a sweep's status.</summary>
    public SweepStatus WithLatest(SweepStatus status)
    {
        foreach (var job in status.Jobs.Where(j => j.State == JobState.Running))
            if (latest.TryGetValue((status.SweepId, job.JobId), out var metrics)) job.Latest = metrics;
        return status;
    }
}
