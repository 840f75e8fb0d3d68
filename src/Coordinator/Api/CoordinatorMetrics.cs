using System.Diagnostics.Metrics;
using Orchestrator.Coordinator.Cluster;
using Orchestrator.Coordinator.Sweeps;
using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.Api;

/// <summary>
/// The coordinator's own instruments, all on one Meter, exported at /metrics for Prometheus. Labels are bounded by
/// construction (docs/metrics.md): job kind (4 values) and final state (3); never a sweep, trial id, seed or
/// hyperparameter value.
/// </summary>
public sealed class CoordinatorMetrics : IDisposable
{
    public const string MeterName = "Orchestrator.Coordinator";

    readonly Meter meter = new(MeterName);
    readonly Counter<long> jobsFinished;
    readonly Histogram<double> jobDuration;
    readonly Counter<long> pointsIngested;
    readonly UpDownCounter<long> watchStreams;

    public CoordinatorMetrics()
    {
        jobsFinished = meter.CreateCounter<long>("orchestrator.jobs.finished", description: "Jobs that finished, by kind (teacher, student, soft-targets, soft-target-shard) and state (done, failed, cancelled).");
        jobDuration = meter.CreateHistogram<double>("orchestrator.job.duration", unit: "s", description: "How long finished jobs ran, by kind.");
        pointsIngested = meter.CreateCounter<long>("orchestrator.metric.points", description: "Metric points received from GPU nodes.");
        watchStreams = meter.CreateUpDownCounter<long>("orchestrator.watch.streams", description: "Watch streams open now.");
    }

    /// <summary>Counts a job that reached a final state.</summary>
    public void JobChanged(JobStateChanged change)
    {
        if (change.State is not (SweepEntity.Done or SweepEntity.Failed or SweepEntity.Cancelled)) return;
        var kind = new KeyValuePair<string, object?>("kind", SweepResults.KindNames.GetValueOrDefault(change.Kind, "unknown"));
        jobsFinished.Add(1, kind, new KeyValuePair<string, object?>("state", change.State));
        if (change.Summary is { Seconds: > 0 } summary) jobDuration.Record(summary.Seconds, kind);
    }

    public void Ingested(int points) => pointsIngested.Add(points);

    public void WatchOpened() => watchStreams.Add(1);

    public void WatchClosed() => watchStreams.Add(-1);

    public void Dispose() => meter.Dispose();
}
