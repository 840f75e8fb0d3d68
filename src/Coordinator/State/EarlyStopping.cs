using Google.Protobuf;
using Orchestrator.Coordinator.Results;
using Orchestrator.Coordinator.Search;
using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.State;

/// <summary>A student of a sweep that may stop students: its point, what its epochs measured, and why the sweep stopped it.</summary>
sealed class StudentTrace(StudentPoint point, int bands)
{
    public StudentPoint Point { get; } = point;
    /// <summary>The metric at each band's epoch; NaN until the student reached it.</summary>
    public double[] AtBand { get; } = Enumerable.Repeat(double.NaN, bands).ToArray();
    /// <summary>The best value of any epoch so far; NaN before the first.</summary>
    public double Best { get; set; } = double.NaN;
    public int Epochs { get; set; }
    public string? StopReason { get; set; }
    public bool Measured => Epochs > 0 || StopReason is not null;
}

/// <summary>A point's students (one per seed): what early termination judges and stops as one.</summary>
sealed class StudentPoint(string key)
{
    public string Key { get; } = key;
    public List<SweepJob> Jobs { get; } = [];
    public string? StopReason { get; set; }
    public bool AllFinished => Jobs.All(j => j.Finished);

    /// <summary>The mean over the seeds that reached band <paramref name="band"/> of their value there (strict) or their best so far.</summary>
    public double Mean(int band, bool bestSoFar) =>
        Jobs.Where(j => !double.IsNaN(j.Trace!.AtBand[band])).Average(j => bestSoFar ? j.Trace!.Best : j.Trace!.AtBand[band]);

    /// <summary>The latest band any of its seeds reached; -1: none.</summary>
    public int LatestBand()
    {
        int latest = -1;
        foreach (var job in Jobs)
            for (int band = job.Trace!.AtBand.Length - 1; band > latest; band--)
                if (!double.IsNaN(job.Trace.AtBand[band])) latest = band;
        return latest;
    }
}

/// <summary>
/// Early termination (hyperband, by point) and metric.target: which students a sweep stops, decided from the epochs
/// their nodes measured (<see cref="EpochMeasured"/>), persisted as <see cref="PointStopped"/> and
/// <see cref="TargetReached"/>. Only a sweep with early_terminate, a target or bayes proposals tracks points. Pure.
/// </summary>
public sealed class EarlyStopping(SubmitSweep sweep, JobGraph jobs, Scoreboard scores)
{
    /// <summary>Student points of a sweep that tracks points (<see cref="TracksPoints"/>), by <see cref="SweepResults.PointKey"/>; empty otherwise.</summary>
    readonly Dictionary<string, StudentPoint> points = [];

    /// <summary>Set once a point's mean reached metric.target.</summary>
    public TargetReached? Reached { get; private set; }

    /// <summary>A sweep that may stop students, or proposes points: it knows each student's point.</summary>
    bool TracksPoints => sweep is { EarlyTermination: not null } or { HasTarget: true } or { Bayes: not null };

    /// <summary>Made as a student is planned, in a sweep that tracks points.</summary>
    public void Track(SweepJob job)
    {
        if (!TracksPoints || job.Kind != JobKind.Student) return;
        string key = SweepResults.PointKey(job.Plan.Parameters);
        if (!points.TryGetValue(key, out var point)) points[key] = point = new StudentPoint(key);
        point.Jobs.Add(job);
        job.Trace = new StudentTrace(point, sweep.EarlyTermination?.Bands.Count ?? 0);
    }

    /// <summary>A node measured an epoch: recorded for early termination when it is the student's current attempt's and new.</summary>
    public Decision Decide(JobProgress progress)
    {
        if (sweep.EarlyTermination is null || !jobs.IsCurrent(progress.JobId, progress.Attempt)) return Decision.None;
        var trace = jobs[progress.JobId].Trace;
        if (trace is null || trace.StopReason is not null || progress.Metrics.Epoch <= trace.Epochs) return Decision.None;
        double value = SweepResults.MetricOf(progress.Metrics, sweep.Metric);
        return Decision.Only([new EpochMeasured { JobId = progress.JobId, Epoch = progress.Metrics.Epoch, Value = value }]);
    }

    /// <summary>Whether the epoch is one at which early termination compares points (then <see cref="DecideStops"/>).</summary>
    public bool IsBand(int epoch) => sweep.EarlyTermination?.Bands.Contains(epoch) ?? false;

    /// <summary>
    /// Hyperband by point (<see cref="Hyperband"/>): every point with a running seed, at the latest band one of its
    /// seeds reached, against the threshold of every point that reached that band (running, finished or stopped);
    /// those worse are stopped. O(points) per call: asked when an epoch at a band is measured, and after a restart.
    /// </summary>
    public IReadOnlyList<IMessage> DecideStops()
    {
        if (sweep.EarlyTermination is not { } rule) return [];
        var thresholds = new Dictionary<int, (double Value, int Points)>();
        (double Value, int Points) ThresholdAt(int band)
        {
            if (thresholds.TryGetValue(band, out var known)) return known;
            var values = points.Values.Where(p => p.Jobs.Any(j => !double.IsNaN(j.Trace!.AtBand[band]))).Select(p => p.Mean(band, bestSoFar: false)).ToList();
            return thresholds[band] = (Hyperband.Threshold(values, rule.Eta, sweep.Maximize), values.Count);
        }
        var stops = new List<IMessage>();
        foreach (var point in points.Values)
        {
            if (point.StopReason is not null || !point.Jobs.Any(j => j.State == JobState.Running)) continue;
            int band = point.LatestBand();
            if (band < 0) continue;
            double value = point.Mean(band, bestSoFar: !rule.Strict);
            var (threshold, count) = ThresholdAt(band);
            if (!Hyperband.Worse(value, threshold, sweep.Maximize)) continue;
            int epoch = rule.Bands[band];
            stops.Add(new PointStopped
            {
                Point = point.Key,
                Reason = $"stopped by hyperband at epoch {epoch}: {(rule.Strict ? "" : "best ")}{sweep.Metric} {value:0.000} {(sweep.Maximize ? "below" : "above")} " +
                         $"{threshold:0.000}, band {epoch} of {count} points",
            });
        }
        return stops;
    }

    /// <summary>
    /// metric.target: whether the point of <paramref name="jobId"/> (every point when null, after a restart) has every
    /// seed finished and its mean at the target; the first such point stops the points that have not started.
    /// </summary>
    public IReadOnlyList<IMessage> DecideTarget(string? jobId)
    {
        if (sweep is not { HasTarget: true } || Reached is not null) return [];
        IEnumerable<StudentPoint> candidates = jobId is null ? points.Values : jobs[jobId].Trace is { } trace ? [trace.Point] : [];
        foreach (var candidate in candidates)
        {
            if (scores.MeanOf(candidate.Key) is not { } mean || !candidate.AllFinished) continue;
            if (sweep.Maximize ? mean >= sweep.Target : mean <= sweep.Target)
                return [new TargetReached { Point = candidate.Key, Mean = mean }];
        }
        return [];
    }

    public void Apply(EpochMeasured measured)
    {
        var trace = jobs[measured.JobId].Trace!;
        trace.Epochs = Math.Max(trace.Epochs, measured.Epoch);
        if (double.IsNaN(trace.Best) || Hyperband.Worse(trace.Best, measured.Value, sweep.Maximize)) trace.Best = measured.Value;
        int band = sweep.EarlyTermination.Bands.IndexOf(measured.Epoch);
        if (band >= 0) trace.AtBand[band] = measured.Value;
    }

    /// <summary>Its unfinished seeds stop: one that never started at once, the others when their node has evaluated their best checkpoint. Returns them.</summary>
    public Applied Apply(PointStopped stopped)
    {
        var point = points[stopped.Point];
        var marked = new List<string>();
        if (point.StopReason is null)
        {
            point.StopReason = stopped.Reason;
            foreach (var job in point.Jobs) Stop(job, stopped.Reason, marked);
        }
        return new Applied(marked);
    }

    /// <summary>Points that have not started are stopped, never run; started ones go on. Returns the stopped jobs.</summary>
    public Applied Apply(TargetReached reached)
    {
        var marked = new List<string>();
        if (Reached is null)
        {
            Reached = reached;
            string reason = $"not run: point {reached.Point} reached metric.target ({sweep.Metric} {reached.Mean:0.000})";
            foreach (var point in points.Values.Where(p => p.StopReason is null && p.Jobs.All(j => j is { State: JobState.Queued, Started: false })))
            {
                point.StopReason = reason;
                foreach (var job in point.Jobs) Stop(job, reason, marked);
            }
        }
        return new Applied(marked);
    }

    void Stop(SweepJob job, string reason, List<string> marked)
    {
        if (job.Finished) return;
        job.Trace!.StopReason = reason;
        if (job is { State: JobState.Queued, Started: false }) jobs.Move(job, JobState.Stopped);
        marked.Add(job.Id);
    }

    /// <summary>Whether every seed of the point finished (false for a point it does not track).</summary>
    public bool Finished(string key) => points.TryGetValue(key, out var point) && point.AllFinished;

    /// <summary>The value of a point the sweep stopped: its mean at the last band its seeds reached; null for any other point.</summary>
    public double? StoppedValue(string key) =>
        points.TryGetValue(key, out var point) && point.StopReason is not null && sweep.EarlyTermination is { } rule && point.LatestBand() is >= 0 and var band
            ? point.Mean(band, bestSoFar: !rule.Strict)
            : null;

    public void RestoreTarget(TargetReached? reached) => Reached = reached;

    /// <summary>A job's stop reason and measurements, as a snapshot keeps them.</summary>
    public static void Save(SweepJob job, JobSnapshot saved)
    {
        if (job.Trace is not { Measured: true } trace) return;
        saved.StopReason = trace.StopReason ?? "";
        saved.BandValues.Add(trace.AtBand);
        saved.BestSoFar = trace.Best;
        saved.EpochsMeasured = trace.Epochs;
    }

    public static void Restore(SweepJob job, JobSnapshot saved)
    {
        if (job.Trace is not { } trace) return;
        if (saved.StopReason.Length > 0)
        {
            trace.StopReason = saved.StopReason;
            trace.Point.StopReason ??= saved.StopReason;
        }
        for (int band = 0; band < Math.Min(saved.BandValues.Count, trace.AtBand.Length); band++) trace.AtBand[band] = saved.BandValues[band];
        (trace.Best, trace.Epochs) = (saved.EpochsMeasured > 0 ? saved.BestSoFar : double.NaN, saved.EpochsMeasured);
    }
}
