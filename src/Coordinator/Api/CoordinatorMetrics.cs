using System.Diagnostics.Metrics;
using Orchestrator.Coordinator.Cluster;
using Orchestrator.Coordinator.Results;
using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.Api;

/// <summary>
/// The coordinator's own instruments, all on one Meter, exported at /metrics for Prometheus. Labels are bounded by
/// construction (docs/metrics.md): job kind, job state, node, role, member status, and the sweep name only for the
/// per-sweep best metric (sweeps are few); never a trial id, seed or hyperparameter value.
/// </summary>
public sealed class CoordinatorMetrics : IDisposable
{
    /// <summary>What the gauges read: every sweep's counts and best point (no jobs), refreshed by <see cref="SweepGauges"/>; the scheduler's published load.</summary>
    sealed record Snapshot(IReadOnlyList<SweepStatus> Sweeps, Cluster.Scheduler.Load? Load);

    public const string MeterName = "Orchestrator.Coordinator";

    // Bucket bounds in seconds, chosen per instrument: OpenTelemetry's defaults (0 to 10,000) are meant for milliseconds.
    static readonly double[] FastBounds = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    static readonly double[] WaitBounds = [0.001, 0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 14400, 86400];
    static readonly double[] CallBounds = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60, 600, 3600];
    static readonly double[] JobBounds = [1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 43200, 86400];
    static readonly double[] LatencyBounds = [0.00001, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    static readonly double[] SizeBounds = [1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10];

    volatile Snapshot snapshot = new([], null);
    readonly Meter meter = new(MeterName);
    readonly Counter<long> jobsFinished;
    readonly Histogram<double> jobDuration;
    readonly Histogram<double> modelLatency;
    readonly Histogram<double> modelSize;
    readonly Histogram<double> dispatchLatency;
    readonly Histogram<double> journalLatency;
    readonly Histogram<double> grpcCalls;
    readonly Counter<long> pointsIngested;
    readonly UpDownCounter<long> watchStreams;

    public CoordinatorMetrics(Akka.Actor.ActorSystem system)
    {
        jobsFinished = meter.CreateCounter<long>("orchestrator.jobs.finished", description: "Jobs that finished, by kind (teacher, student, soft-targets, soft-target-shard) and state (done, failed, cancelled, stopped).");
        jobDuration = Histogram("orchestrator.job.duration", "How long finished jobs ran, by kind.", JobBounds);
        modelLatency = Histogram("orchestrator.model.latency", "Inference latency of each trained model (median, on the device that trained it), by job kind and batch size (1, 256).", LatencyBounds);
        modelSize = meter.CreateHistogram("orchestrator.model.size", "By", "Bytes of each trained model's weights in float32, by job kind.", tags: null,
            new InstrumentAdvice<double> { HistogramBucketBoundaries = SizeBounds });
        pointsIngested = meter.CreateCounter<long>("orchestrator.metric.points", description: "Metric points received from GPU nodes.");
        watchStreams = meter.CreateUpDownCounter<long>("orchestrator.watch.streams", description: "Watch streams open now.");
        dispatchLatency = Histogram("orchestrator.scheduler.dispatch.latency", "How long a runnable job waited for a free slot.", WaitBounds);
        journalLatency = Histogram("orchestrator.journal.write.latency", "How long a sweep's event took to be written to the journal.", FastBounds);
        grpcCalls = Histogram("orchestrator.grpc.server.duration", "gRPC calls served, by service, method and status code, and how long each took (streams: while open).", CallBounds);
        meter.CreateObservableGauge("orchestrator.sweeps", () => snapshot.Sweeps
            .GroupBy(s => s.Cancelled ? "cancelled" : s.Complete ? "complete" : "running")
            .Select(g => new Measurement<long>(g.Count(), new KeyValuePair<string, object?>("state", g.Key))), description: "Sweeps by state.");
        meter.CreateObservableGauge("orchestrator.jobs", () => snapshot.Sweeps.SelectMany(s => s.CountsByKind)
            .SelectMany(k => States(k.Value).Select(state => (Kind: k.Key, state.State, state.Count)))
            .GroupBy(j => (j.Kind, j.State)).Where(g => g.Sum(j => j.Count) > 0)
            .Select(g => new Measurement<long>(g.Sum(j => j.Count), new("kind", g.Key.Kind), new("state", g.Key.State))), description: "Jobs of all sweeps by kind and state.");
        meter.CreateObservableGauge("orchestrator.sweep.best", () => snapshot.Sweeps.Where(s => s.Best is not null)
            .Select(s => new Measurement<double>(s.Best.MetricMean, new("sweep", s.SweepId), new("metric", s.Metric))),
            description: "The best point's mean validation metric so far, per sweep.");
        meter.CreateObservableGauge("orchestrator.scheduler.queued", () => snapshot.Load?.Queued ?? 0, description: "Runnable jobs waiting for a slot.");
        meter.CreateObservableGauge("orchestrator.slots", () => Slots(snapshot.Load), description: "GPU-node slots by node and state (free, busy).");
        meter.CreateObservableGauge("orchestrator.cluster.members", () => Akka.Cluster.Cluster.Get(system).State.Members
            .SelectMany(m => m.Roles.Select(role => (Role: role, Status: m.Status.ToString().ToLowerInvariant())))
            .GroupBy(m => m).Select(g => new Measurement<long>(g.Count(), new("role", g.Key.Role), new("status", g.Key.Status))),
            description: "Cluster members by role and status.");
    }

    static IEnumerable<(string State, int Count)> States(JobCounts counts) =>
    [
        (JobStates.Name(JobState.Queued), counts.Queued), (JobStates.Name(JobState.Running), counts.Running), (JobStates.Name(JobState.Done), counts.Done),
        (JobStates.Name(JobState.Failed), counts.Failed), (JobStates.Name(JobState.Cancelled), counts.Cancelled), (JobStates.Name(JobState.Stopped), counts.Stopped),
    ];

    Histogram<double> Histogram(string name, string description, double[] bounds) =>
        meter.CreateHistogram(name, "s", description, tags: null, new InstrumentAdvice<double> { HistogramBucketBoundaries = bounds });

    /// <summary>Both states for every node the scheduler knows, zeros included, so utilisation (busy / all) is defined for an idle node.</summary>
    static IEnumerable<Measurement<long>> Slots(Cluster.Scheduler.Load? load) => load is null ? [] :
        load.FreeSlots.Keys.Union(load.BusySlots.Keys).SelectMany(node => new[]
        {
            new Measurement<long>(load.FreeSlots.GetValueOrDefault(node), new("node", node), new("state", "free")),
            new Measurement<long>(load.BusySlots.GetValueOrDefault(node), new("node", node), new("state", "busy")),
        });

    public void SweepsChanged(IReadOnlyList<SweepStatus> sweeps) => snapshot = snapshot with { Sweeps = sweeps };

    public void SchedulerLoad(Cluster.Scheduler.Load load) => snapshot = snapshot with { Load = load };

    /// <summary>The scheduler's load as last published (once a second); null before the first.</summary>
    public Cluster.Scheduler.Load? Load => snapshot.Load;

    public void Dispatched(TimeSpan waited) => dispatchLatency.Record(waited.TotalSeconds);

    /// <summary>Counts a job that reached a final state.</summary>
    public void JobChanged(JobStateChanged change)
    {
        if (!JobStates.IsFinished(change.State)) return;
        var kind = new KeyValuePair<string, object?>("kind", SweepResults.KindNames.GetValueOrDefault(change.Kind, "unknown"));
        jobsFinished.Add(1, kind, new KeyValuePair<string, object?>("state", JobStates.Name(change.State)));
        if (change.Summary is { Seconds: > 0 } summary) jobDuration.Record(summary.Seconds, kind);
        if (change is { State: JobState.Done, Summary.Cost: { } cost })
        {
            modelLatency.Record(cost.LatencyMsBatch1 / 1000, kind, new KeyValuePair<string, object?>("batch", "1"));
            modelLatency.Record(cost.LatencyMsBatch256 / 1000, kind, new KeyValuePair<string, object?>("batch", "256"));
            modelSize.Record(cost.BytesFloat32, kind);
        }
    }

    public void JournalWritten(TimeSpan latency) => journalLatency.Record(latency.TotalSeconds);

    /// <summary>One finished gRPC call; <paramref name="fullMethod"/> is "/package.Service/Method".</summary>
    public void GrpcCall(string fullMethod, Grpc.Core.StatusCode code, TimeSpan duration)
    {
        int slash = fullMethod.LastIndexOf('/');
        grpcCalls.Record(duration.TotalSeconds, new("service", fullMethod[1..Math.Max(slash, 1)]), new("method", fullMethod[(slash + 1)..]), new("code", code.ToString()));
    }

    public void Ingested(int points) => pointsIngested.Add(points);

    public void WatchOpened() => watchStreams.Add(1);

    public void WatchClosed() => watchStreams.Add(-1);

    public void Dispose() => meter.Dispose();
}
