using System.Text;
using Orchestrator.Distillation.Trials;
using Orchestrator.Protocol.V1;
using static Orchestrator.Coordinator.Results.SvgPlot;

namespace Orchestrator.Coordinator.Results;

/// <summary>
/// The report's curves, from each trial's metrics.jsonl: validation accuracy and loss and training loss per epoch (the
/// best point's seeds against the student alone, the teachers and the other students), each loss term of the best
/// point's first seed, and the best metric found against the slot-hours spent.
/// </summary>
public static class ReportCurves
{
    /// <summary>The most students drawn as grey curves (a large sweep's report stays small).</summary>
    const int MaxOtherCurves = 200;

    /// <summary>A trial's curve: its job, how it is drawn, and its epochs.</summary>
    sealed record Curve(JobStatus Job, Series Style, IReadOnlyList<EpochMetrics> Epochs);

    public static void Learning(StringBuilder html, SweepStatus status, SweepResults.Recipe? best)
    {
        bool IsBest(JobStatus job) => best is not null && job.Kind == JobKind.Student && best.Parameters.All(p => job.Parameters.GetValueOrDefault(p.Key) == p.Value)
                                      && job.Parameters.Count == best.Parameters.Count;
        // Drawn in this order: other students (grey, underneath), then teachers (dashed), the best point's baselines
        // (blue), then the best point's seeds; only their metrics files are read (a large sweep has many more).
        var trials = status.Jobs.Where(j => j.Kind is JobKind.Teacher or JobKind.Student && j.State is JobState.Done or JobState.Stopped).ToList();
        var bestBaselines = trials.Where(IsBest).Select(j => j.Baseline).Where(b => b.Length > 0).ToHashSet();
        var baselines = status.Jobs.Where(j => j.Kind == JobKind.Baseline && j.State == JobState.Done && bestBaselines.Contains(j.JobId));
        IEnumerable<Curve> Read(IEnumerable<JobStatus> jobs) => jobs
            .Select(job => new Curve(job, Style(job, IsBest(job)), new TrialFolder(Path.Combine(status.OutputRoot, job.JobId)).ReadEpochs())).Where(c => c.Epochs.Count > 0);
        // What trains now, as its epochs arrive: what a live page (SweepPages) shows between refreshes.
        var running = status.Jobs.Where(j => Protocol.JobKinds.TrainsTrial(j.Kind) && j.State == JobState.Running);
        var curves = Read(trials.Where(j => j.Kind == JobKind.Student && !IsBest(j))).Take(MaxOtherCurves).Concat(Read(running).Take(MaxOtherCurves))
            .Concat(Read(trials.Where(j => j.Kind == JobKind.Teacher))).Concat(Read(baselines)).Concat(Read(trials.Where(IsBest))).ToList();
        if (curves.Count == 0) return;
        html.Append("<h2>Learning curves</h2><p class=\"note\">Per epoch: the best point's seeds (red), the same student alone on labels (blue), the teachers (dashed), " +
                    "every other student (grey), those the sweep stopped (orange, dashed, ending at the epoch they stopped) and what is training now (green). " +
                    "Hover over a curve to see which trial it is.</p>");
        html.Append(Lines("validation accuracy", "epoch", "validation accuracy", Plot(curves, e => e.ValidationAccuracy), Fraction));
        html.Append(Lines("validation loss (cross-entropy)", "epoch", "validation loss", Plot(curves, e => e.ValidationLoss)));
        html.Append(Lines("training loss (the trial's whole objective)", "epoch", "training loss", Plot(curves, e => e.TrainLoss)));
        if (curves.LastOrDefault(c => IsBest(c.Job)) is { } shown && shown.Epochs.Any(e => e.LossTerms.Count > 1))
        {
            // Each term as the trial computed it, unweighted: which one the objective trades against which.
            string[] palette = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"];
            var terms = shown.Epochs.SelectMany(e => e.LossTerms.Keys).Distinct().Order(StringComparer.Ordinal).ToList();
            var series = terms.Select((term, i) => new Series(term, shown.Epochs.Where(e => e.LossTerms.ContainsKey(term)).Select(e => ((double)e.Epoch, e.LossTerms[term])).ToList(),
                palette[i % palette.Length])).ToList();
            html.Append(Lines($"loss terms of the best point, seed {shown.Job.Seed}", "epoch", "term value", series));
        }
    }

    static List<Series> Plot(IEnumerable<Curve> curves, Func<EpochMetrics, double> value) =>
        curves.Select(c => c.Style with { Points = c.Epochs.Select(e => ((double)e.Epoch, value(e))).ToList() }).ToList();

    /// <summary>How a trial's curve is drawn and named: its legend entry by role, its hover by the trial itself.</summary>
    static Series Style(JobStatus job, bool best)
    {
        string title = $"{job.JobId} ({SweepReport.Shown(job)})";
        return job.State == JobState.Running ? new Series("training now", [], "#2ca02c", Width: 1.5, Title: title)
            : job.Kind == JobKind.Teacher ? new Series("teacher", [], "#333333", Dashed: true, Title: title)
            : job.Kind == JobKind.Baseline ? new Series($"the student alone, seed {job.Seed}", [], "#1f77b4", Width: 1.5, Title: title)
            : best ? new Series($"best point, seed {job.Seed}", [], "#d62728", Width: 2.5, Title: title)
            : job.State == JobState.Stopped ? new Series("stopped by the sweep", [], "#f4a582", Width: 1, Dashed: true, Title: title)
            : new Series("other students", [], "#bbbbbb", Width: 1, Title: title);
    }

    /// <summary>
    /// The best student's metric found so far against the slot-hours spent, every finished job (teachers and
    /// soft-target jobs too) in the order it finished: what early termination or a model-based search saves shows as
    /// the curve reaching its height sooner. Left out when the first student was already the best (a flat line says nothing).
    /// </summary>
    public static void BestBySlotHours(StringBuilder html, SweepStatus status)
    {
        var finished = status.Jobs.Where(j => j.Summary is { Seconds: > 0 } && j.State is JobState.Done or JobState.Stopped)
            .OrderBy(j => j.Summary.FinishedAt?.ToDateTime() ?? DateTime.MinValue).ThenBy(j => j.JobId, StringComparer.Ordinal).ToList();
        var points = new List<(double X, double Y)>();
        double hours = 0, best = double.NaN;
        foreach (var job in finished)
        {
            hours += job.Summary.Seconds / 3600;
            if (job.Kind != JobKind.Student || job.Summary.BestEpoch == 0) continue;
            double metric = SweepResults.MetricOf(job.Summary, status.Metric);
            if (double.IsNaN(best) || (status.Maximize ? metric > best : metric < best)) best = metric;
            points.Add((hours, best));
        }
        if (points.Select(p => p.Y).Distinct().Count() < 2) return;
        html.Append($"<h2>Best {SvgPlot.Escape(status.Metric)} by slot-hours</h2><p class=\"note\">The best student trial so far (one seed, not a point's mean) against " +
                    $"the slot time every finished job took, in the order they finished: {hours:F2} slot-hours in all.</p>");
        html.Append(Lines($"best {status.Metric} so far", "slot-hours", status.Metric, [new Series("best so far", points, "#d62728")],
            status.Metric == "val_loss" ? null : Fraction));
    }
}
