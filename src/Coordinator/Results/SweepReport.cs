using System.Globalization;
using System.Text;
using Orchestrator.Distillation;
using Orchestrator.Distillation.Trials;
using Orchestrator.Protocol.V1;
using static Orchestrator.Coordinator.Results.SvgPlot;

namespace Orchestrator.Coordinator.Results;

/// <summary>
/// report.html, beside results.csv: the best recipe (chosen on validation), teachers and ensembles, every point with
/// mean ± std over seeds, the metric by each swept parameter and by each pair of them, and learning curves (validation accuracy and loss per
/// epoch, from each trial's metrics.jsonl) of the best point's seeds against the teachers and the other students.
/// One self-contained file: inline SVG, no script, nothing fetched.
/// </summary>
public static class SweepReport
{
    public const string FileName = "report.html";

    /// <summary>The most students drawn as grey curves (a large sweep's report stays small).</summary>
    const int MaxOtherCurves = 200;
    /// <summary>The most points listed and plotted (the best ones), and failures listed: a sweep of a million trials gets a page of a few hundred KB; results.csv has every job.</summary>
    const int MaxPoints = 1000, MaxFailures = 100;

    public static void Write(SweepStatus status, string directory) =>
        AtomicFile.WriteText(Path.Combine(directory, FileName), Render(status, DateTime.UtcNow));

    /// <summary>The page; learning curves come from each job's metrics.jsonl under the sweep's <see cref="SweepStatus.OutputRoot"/>.</summary>
    public static string Render(SweepStatus status, DateTime generated)
    {
        var recipes = SweepResults.Recipes(status);
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>");
        html.Append($"<title>{Escape(status.Name)}: sweep report</title>");
        html.Append("<style>body{font-family:sans-serif;max-width:980px;margin:2em auto;color:#222}table{border-collapse:collapse;font-size:13px}" +
                    "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f4f4f4}td.p,th.p{text-align:left}.best{background:#fdecea}" +
                    "svg{display:block;margin:1em 0}.note{color:#666;font-size:13px}</style></head><body>");
        int done = status.Jobs.Count(j => j.State == JobState.Done), failed = status.Jobs.Count(j => j.State == JobState.Failed),
            stopped = status.Jobs.Count(j => j.State == JobState.Stopped);
        html.Append($"<h1>{Escape(status.Name)}</h1><p class=\"note\">{done} of {status.Jobs.Count} job(s) done, " +
                    $"{(stopped > 0 ? $"{stopped} stopped by the sweep (early termination or its target), " : "")}{failed} failed; " +
                    $"points ranked on {Escape(status.Metric)} ({(status.Maximize ? "higher" : "lower")} is better), mean over seeds. " +
                    $"Test accuracy is reported, never used to choose. Generated {generated.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC.</p>");

        if (recipes.Count > 0)
        {
            var best = recipes[0];
            html.Append($"<h2>Best recipe</h2><p id=\"best\"><b>{Escape(Parameters(best))}</b>: {Escape(status.Metric)} {best.MetricMean:F4} ± {best.MetricStd:F4}, " +
                        $"test accuracy {Percent(best.TestMean)} ± {Percent(best.TestStd)} over {best.Runs} seed(s)</p>");
        }
        var teachers = status.Jobs.Where(j => j.Kind is JobKind.Teacher or JobKind.SoftTargets && j.State == JobState.Done).ToList();
        if (teachers.Count > 0)
            html.Append("<h2>Teachers</h2><ul>").AppendJoin("", teachers.Select(j => $"<li>{Escape(SweepResults.Describe(j))}</li>")).Append("</ul>");
        if (recipes.Count > 0)
        {
            var shown = recipes.Take(MaxPoints).ToList();
            Points(html, status, shown);
            if (recipes.Count > shown.Count) html.Append($"<p class=\"note\">The best {shown.Count} of {recipes.Count} points; results.csv has every job.</p>");
            ByParameter(html, status, shown);
        }
        Curves(html, status, recipes);
        BestBySlotHours(html, status);
        var failures = status.Jobs.Where(j => j.State == JobState.Failed).ToList();
        if (failures.Count > 0)
        {
            html.Append("<h2>Failed jobs</h2><ul>").AppendJoin("", failures.Take(MaxFailures).Select(j => $"<li>{Escape(j.JobId)}: {Escape(j.Summary?.FailureReason ?? "")}</li>")).Append("</ul>");
            if (failures.Count > MaxFailures) html.Append($"<p class=\"note\">... and {failures.Count - MaxFailures} more; results.csv has each one's reason.</p>");
        }
        return html.Append("</body></html>\n").ToString();
    }

    static void Points(StringBuilder html, SweepStatus status, IReadOnlyList<SweepResults.Recipe> recipes)
    {
        var names = ParameterNames(recipes);
        bool gains = recipes.Any(r => r.Gain is not null);
        html.Append("<h2>Points</h2><table id=\"points\"><tr><th>rank</th>").AppendJoin("", names.Select(n => $"<th class=\"p\">{Escape(n)}</th>"))
            .Append($"<th>seeds</th><th>{Escape(status.Metric)}</th><th>test accuracy</th>{(gains ? "<th>gain over the student alone</th><th>alone: test accuracy</th>" : "")}</tr>");
        for (int i = 0; i < recipes.Count; i++)
        {
            var r = recipes[i];
            html.Append($"<tr{(i == 0 ? " class=\"best\"" : "")}><td>{i + 1}</td>").AppendJoin("", names.Select(n => $"<td class=\"p\">{Escape(r.Parameters.GetValueOrDefault(n, ""))}</td>"))
                .Append($"<td>{r.Runs}</td><td>{r.MetricMean:F4} ± {r.MetricStd:F4}</td><td>{Percent(r.TestMean)} ± {Percent(r.TestStd)}</td>");
            if (gains) html.Append(r.Gain is { } g ? $"<td>{Escape(g.ToString())}</td><td>{Percent(g.BaselineMean)} ± {Percent(g.BaselineStd)}</td>" : "<td></td><td></td>");
            html.Append("</tr>");
        }
        html.Append("</table>");
        if (gains)
            html.Append("<p class=\"note\">Gain: per seed, the distilled student's test accuracy minus the same student's trained alone on labels " +
                        "(same settings, same seed); mean ± std over seeds. It exceeds the seeds' spread when it is larger than the std over seeds of both.</p>");
    }

    /// <summary>A parameter's values over the sweep's points: numerically ordered when they are numbers.</summary>
    static List<string> Values(IReadOnlyList<SweepResults.Recipe> recipes, string name)
    {
        var values = recipes.Select(r => r.Parameters.GetValueOrDefault(name, "")).Distinct().ToList();
        return values.All(v => double.TryParse(v, CultureInfo.InvariantCulture, out _))
            ? values.OrderBy(v => double.Parse(v, CultureInfo.InvariantCulture)).ToList()
            : values.Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// For each parameter with more than one value: every point's metric (whiskers ± std over seeds) at its value of
    /// that parameter; and for each pair of them, a heatmap of the best mean over the other parameters.
    /// </summary>
    static void ByParameter(StringBuilder html, SweepStatus status, IReadOnlyList<SweepResults.Recipe> recipes)
    {
        var plots = new StringBuilder();
        var varying = ParameterNames(recipes).Where(n => Values(recipes, n).Count > 1).ToList();
        foreach (string name in varying)
        {
            var values = Values(recipes, name);
            var dots = recipes.Select((r, i) => new Dot(values.IndexOf(r.Parameters.GetValueOrDefault(name, "")), r.MetricMean, r.MetricStd, i == 0,
                $"{Parameters(r)}: {r.MetricMean:F4} ± {r.MetricStd:F4}")).ToList();
            plots.Append(Dots($"{status.Metric} by {name}", name, status.Metric, values, dots));
        }
        for (int i = 0; i < varying.Count; i++)
            for (int j = i + 1; j < varying.Count; j++)
            {
                // recipes are ordered best first, so the first point of each cell is the best over the other parameters
                List<string> xs = Values(recipes, varying[i]), ys = Values(recipes, varying[j]);
                var cells = new double?[xs.Count, ys.Count];
                foreach (var r in recipes.Reverse())
                    cells[xs.IndexOf(r.Parameters.GetValueOrDefault(varying[i], "")), ys.IndexOf(r.Parameters.GetValueOrDefault(varying[j], ""))] = r.MetricMean;
                string others = varying.Count > 2 ? " (best over the other parameters)" : "";
                plots.Append(Heatmap($"{status.Metric}: {varying[j]} x {varying[i]}{others}", varying[i], varying[j], xs, ys, cells, status.Maximize));
            }
        if (plots.Length > 0)
            html.Append("<h2>By parameter</h2><p class=\"note\">Each dot is a point of the sweep (mean over seeds, whiskers ± std), at its value of the parameter.</p>").Append(plots);
    }

    static void Curves(StringBuilder html, SweepStatus status, IReadOnlyList<SweepResults.Recipe> recipes)
    {
        var best = recipes.Count > 0 ? recipes[0] : null;
        bool IsBest(JobStatus job) => best is not null && job.Kind == JobKind.Student && best.Parameters.All(p => job.Parameters.GetValueOrDefault(p.Key) == p.Value)
                                      && job.Parameters.Count == best.Parameters.Count;
        // Drawn in this order: other students (grey, underneath), then teachers (dashed), the best point's baselines
        // (blue), then the best point's seeds; only their metrics files are read (a large sweep has many more).
        var trials = status.Jobs.Where(j => j.Kind is JobKind.Teacher or JobKind.Student && j.State is JobState.Done or JobState.Stopped).ToList();
        var bestBaselines = trials.Where(IsBest).Select(j => j.Baseline).Where(b => b.Length > 0).ToHashSet();
        var baselines = status.Jobs.Where(j => j.Kind == JobKind.Baseline && j.State == JobState.Done && bestBaselines.Contains(j.JobId));
        IEnumerable<(JobStatus Job, List<(int Epoch, double Accuracy, double Loss)> Epochs)> Read(IEnumerable<JobStatus> jobs) => jobs
            .Select(job => (job, Epochs(new TrialFolder(Path.Combine(status.OutputRoot, job.JobId))))).Where(c => c.Item2.Count > 0);
        var ordered = Read(trials.Where(j => j.Kind == JobKind.Student && !IsBest(j))).Take(MaxOtherCurves)
            .Concat(Read(trials.Where(j => j.Kind == JobKind.Teacher))).Concat(Read(baselines)).Concat(Read(trials.Where(IsBest))).ToList();
        if (ordered.Count == 0) return;
        Series Line(JobStatus job, IEnumerable<(double, double)> points) => job.Kind == JobKind.Teacher
            ? new Series("teacher", points.ToList(), "#333333", Dashed: true)
            : job.Kind == JobKind.Baseline ? new Series($"the student alone, seed {job.Seed}", points.ToList(), "#1f77b4", Width: 1.5)
            : IsBest(job) ? new Series($"best point, seed {job.Seed}", points.ToList(), "#d62728", Width: 2.5)
            : job.State == JobState.Stopped ? new Series("stopped by the sweep", points.ToList(), "#f4a582", Width: 1, Dashed: true)
            : new Series("other students", points.ToList(), "#bbbbbb", Width: 1);
        html.Append("<h2>Learning curves</h2><p class=\"note\">Per epoch, on the validation split: the best point's seeds, the same student alone on labels (blue), the teachers (dashed), " +
                    "every other student (grey) and those the sweep stopped (orange, dashed, ending at the epoch they stopped).</p>");
        html.Append(Lines("validation accuracy", "epoch", "validation accuracy", ordered.Select(c => Line(c.Job, c.Epochs.Select(e => ((double)e.Epoch, e.Accuracy)))).ToList()));
        html.Append(Lines("validation loss (cross-entropy)", "epoch", "validation loss", ordered.Select(c => Line(c.Job, c.Epochs.Select(e => ((double)e.Epoch, e.Loss)))).ToList()));
    }

    /// <summary>
    /// The best student's metric found so far against the slot-hours spent, every finished job (teachers and
    /// soft-target jobs too) in the order it finished: what early termination or a model-based search saves shows as
    /// the curve reaching its height sooner.
    /// </summary>
    static void BestBySlotHours(StringBuilder html, SweepStatus status)
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
        if (points.Count < 2) return;
        html.Append($"<h2>Best {Escape(status.Metric)} by slot-hours</h2><p class=\"note\">The best student trial so far (one seed, not a point's mean) against " +
                    $"the slot time every finished job took, in the order they finished: {hours:F2} slot-hours in all.</p>");
        html.Append(Lines($"best {status.Metric} so far", "slot-hours", status.Metric, [new Series("best so far", points, "#d62728")]));
    }

    /// <summary>A trial's epochs from its metrics.jsonl; empty when it has none (soft-target jobs, or a folder elsewhere).</summary>
    static List<(int Epoch, double Accuracy, double Loss)> Epochs(TrialFolder trial) =>
        trial.ReadEpochs().Select(e => (e.Epoch, e.ValidationAccuracy, e.ValidationLoss)).ToList();

    static List<string> ParameterNames(IReadOnlyList<SweepResults.Recipe> recipes) =>
        recipes.SelectMany(r => r.Parameters.Keys).Distinct().Order(StringComparer.Ordinal).ToList();

    static string Parameters(SweepResults.Recipe recipe) =>
        recipe.Parameters.Count == 0 ? "(no parameters)" : string.Join(", ", recipe.Parameters.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));

    static string Percent(double value) => value.ToString("P2", CultureInfo.InvariantCulture);
}
