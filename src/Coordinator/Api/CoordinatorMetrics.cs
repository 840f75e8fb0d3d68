using System.Diagnostics.Metrics;
using Orchestrator.Coordinator.Cluster;
using Orchestrator.Coordinator.Sweeps;
using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.Api;

/// <summary>
/// The coordinator's own instruments, all on one Meter, exported at /metrics for Prometheus. Labels are bounded by
/// construction (docs/metrics.md): job kind, job state, node, role, member status, and the sweep name only for the
/// per-sweep best metric (sweeps are few); never a trial id, seed or hyperparameter value.
/// </summary>
public sealed class CoordinatorMetrics : IDisposable
{
    /// <summary>What the gauges read: refreshed by <see cref="SweepGauges"/> and by the scheduler's published load.</summary>
    sealed record Snapshot(IReadOnlyList<SweepStatus> Sweeps, Cluster.Scheduler.Load? Load);

    volatile Snapshot snapshot = new([], null);
    readonly Histogram<double> dispatchLatency;
    public const string MeterName = "Orchestrator.Coordinator";

    readonly Meter meter = new(MeterName);
    readonly Counter<long> jobsFinished;
    readonly Histogram<double> jobDuration;
    readonly Counter<long> pointsIngested;
    readonly UpDownCounter<long> watchStreams;

    public CoordinatorMetrics(Akka.Actor.ActorSystem system)
    {
        jobsFinished = meter.CreateCounter<long>("orchestrator.jobs.finished", description: "Jobs that finished, by kind (teacher, student, soft-targets, soft-target-shard) and state (done, failed, cancelled).");
        jobDuration = meter.CreateHistogram<double>("orchestrator.job.duration", unit: "s", description: "How long finished jobs ran, by kind.");
        pointsIngested = meter.CreateCounter<long>("orchestrator.metric.points", description: "Metric points received from GPU nodes.");
        watchStreams = meter.CreateUpDownCounter<long>("orchestrator.watch.streams", description: "Watch streams open now.");
        dispatchLatency = meter.CreateHistogram<double>("orchestrator.scheduler.dispatch.latency", unit: "s", description: "How long a runnable job waited for a free slot.");
        meter.CreateObservableGauge("orchestrator.sweeps", () => snapshot.Sweeps
            .GroupBy(s => s.Cancelled ? "cancelled" : s.Complete ? "complete" : "running")
            .Select(g => new Measurement<long>(g.Count(), new KeyValuePair<string, object?>("state", g.Key))), description: "Sweeps by state.");
        meter.CreateObservableGauge("orchestrator.jobs", () => snapshot.Sweeps.SelectMany(s => s.Jobs)
            .GroupBy(j => (Kind: SweepResults.KindNames.GetValueOrDefault(j.Kind, "unknown"), j.State))
            .Select(g => new Measurement<long>(g.Count(), new("kind", g.Key.Kind), new("state", g.Key.State))), description: "Jobs of all sweeps by kind and state.");
        meter.CreateObservableGauge("orchestrator.sweep.best", () => snapshot.Sweeps
            .Select(s => (s, Best: SweepResults.Best(s))).Where(p => p.Best is not null)
            .Select(p => new Measurement<double>(p.Best!.MetricMean, new("sweep", p.s.SweepId), new("metric", p.s.Metric))),
            description: "The best point's mean validation metric so far, per sweep.");
        meter.CreateObservableGauge("orchestrator.scheduler.queued", () => snapshot.Load?.Queued ?? 0, description: "Runnable jobs waiting for a slot.");
        meter.CreateObservableGauge("orchestrator.slots", () => Slots(snapshot.Load), description: "GPU-node slots by node and state (free, busy).");
        meter.CreateObservableGauge("orchestrator.cluster.members", () => Akka.Cluster.Cluster.Get(system).State.Members
            .SelectMany(m => m.Roles.Select(role => (Role: role, Status: m.Status.ToString().ToLowerInvariant())))
            .GroupBy(m => m).Select(g => new Measurement<long>(g.Count(), new("role", g.Key.Role), new("status", g.Key.Status))),
            description: "Cluster members by role and status.");
    }

    /// <summary>Both states for every node the scheduler knows, zeros included, so utilisation (busy / all) is defined for an idle node.</summary>
    static IEnumerable<Measurement<long>> Slots(Cluster.Scheduler.Load? load) => load is null ? [] :
        load.FreeSlots.Keys.Union(load.BusySlots.Keys).SelectMany(node => new[]
        {
            new Measurement<long>(load.FreeSlots.GetValueOrDefault(node), new("node", node), new("state", "free")),
            new Measurement<long>(load.BusySlots.GetValueOrDefault(node), new("node", node), new("state", "busy")),
        });

    public void SweepsChanged(IReadOnlyList<SweepStatus> sweeps) => snapshot = snapshot with { Sweeps = sweeps };

    public void SchedulerLoad(Cluster.Scheduler.Load load) => snapshot = snapshot with { Load = load };

    public void Dispatched(TimeSpan waited) => dispatchLatency.Record(waited.TotalSeconds);

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
