using System.Globalization;
using System.Text;
using Orchestrator.Distillation;
using Orchestrator.Distillation.Trials;
using Orchestrator.Protocol.V1;
using static Orchestrator.Coordinator.Results.SvgPlot;

namespace Orchestrator.Coordinator.Results;

/// <summary>
/// report.html, beside results.csv: the sweep's settings (its file as submitted), the best recipe (chosen on
/// validation) and whether distillation helped, teachers, ensembles and the student alone, every point with mean ± std
/// over seeds, the metric by each swept parameter (each seed too) and by each pair of them, learning curves
/// (<see cref="ReportCurves"/>), and what failed. One self-contained file: inline SVG, no script, nothing fetched.
/// </summary>
public static class SweepReport
{
    public const string FileName = "report.html";

    /// <summary>The sweep file's text as submitted, kept beside its results when the sweep is accepted: the settings the report shows.</summary>
    public const string SweepFileName = "sweep.yaml";

    /// <summary>The most points listed and plotted (the best ones), and failures listed: a sweep of a million trials gets a page of a few hundred KB; results.csv has every job.</summary>
    const int MaxPoints = 1000, MaxFailures = 100;

    public static void Write(SweepStatus status, string directory) =>
        AtomicFile.WriteText(Path.Combine(directory, FileName), Render(status, DateTime.UtcNow));

    /// <summary>The page; learning curves come from each job's metrics.jsonl under the sweep's <see cref="SweepStatus.OutputRoot"/>.</summary>
    public static string Render(SweepStatus status, DateTime generated) =>
        Page($"{status.Name}: sweep report", Body(status, generated, chartLibrary: true));

    /// <summary>A whole page of this style around <paramref name="body"/>; <paramref name="head"/> goes at the end of its head.</summary>
    public static string Page(string title, string body, string head = "") =>
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/><link rel=\"icon\" href=\"data:,\"/>" + $"<title>{Escape(title)}</title>" +
        "<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}table{border-collapse:collapse;font-size:13px}" +
        "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f4f4f4}td.p,th.p{text-align:left}.best{background:#fdecea}" +
        "svg{display:block;margin:1em 0}.note{color:#666;font-size:13px}.worse{color:#b00}pre{background:#f7f7f7;padding:8px;font-size:12px}</style>" +
        head + "</head><body>" + body + "</body></html>\n";

    /// <summary>
    /// The report's content: what the live sweep page swaps in as the sweep runs.
    /// <c>#progress</c> carries the done count and whether the sweep is complete, for the page and its tests.
    /// </summary>
    /// <param name="chartLibrary">Inline ECharts here (a report file); the live page loads it once, not on every refresh.</param>
    public static string Body(SweepStatus status, DateTime generated, bool chartLibrary)
    {
        var recipes = SweepResults.Recipes(status);
        var html = new StringBuilder();
        int done = status.Jobs.Count(j => j.State == JobState.Done), failed = status.Jobs.Count(j => j.State == JobState.Failed),
            stopped = status.Jobs.Count(j => j.State == JobState.Stopped);
        html.Append($"<h1>{Escape(status.Name)}</h1><p class=\"note\" id=\"progress\" data-done=\"{done}\" data-complete=\"{(status.Complete ? "yes" : "no")}\">" +
                    $"{done} of {status.Jobs.Count} job(s) done, " +
                    $"{(stopped > 0 ? $"{stopped} stopped by the sweep (early termination or its target), " : "")}{failed} failed{Durations(status)}; " +
                    $"points ranked on {Escape(status.Metric)} ({(status.Maximize ? "higher" : "lower")} is better), mean over seeds; ties go to the lower validation loss. " +
                    $"Test accuracy is reported, never used to choose. Generated {generated.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC.</p>");
        Settings(html, status);
        if (recipes.Count > 0) Best(html, status, recipes[0]);
        References(html, status);
        if (recipes.Count > 0)
        {
            var shown = recipes.Take(MaxPoints).ToList();
            Points(html, status, shown);
            if (recipes.Count > shown.Count) html.Append($"<p class=\"note\">The best {shown.Count} of {recipes.Count} points; results.csv has every job.</p>");
            ByParameter(html, status, shown);
            ReportCharts.Append(html, status, shown, chartLibrary);
        }
        ReportCurves.Learning(html, status, recipes.Count > 0 ? recipes[0] : null);
        ReportCurves.BestBySlotHours(html, status);
        var failures = status.Jobs.Where(j => j.State == JobState.Failed).ToList();
        if (failures.Count > 0)
        {
            html.Append("<h2>Failed jobs</h2><ul>").AppendJoin("", failures.Take(MaxFailures).Select(j => $"<li>{Escape(j.JobId)}: {Escape(j.Summary?.FailureReason ?? "")}</li>")).Append("</ul>");
            if (failures.Count > MaxFailures) html.Append($"<p class=\"note\">... and {failures.Count - MaxFailures} more; results.csv has each one's reason.</p>");
        }
        return html.ToString();
    }

    /// <summary>", 2.25 slot-hours over 1:05:00": the slot time every finished job took, and the time from the first start to the last finish.</summary>
    static string Durations(SweepStatus status)
    {
        var finished = status.Jobs.Where(j => j.Summary is { Seconds: > 0, FinishedAt: not null }).ToList();
        if (finished.Count == 0) return "";
        double slotHours = finished.Sum(j => j.Summary.Seconds) / 3600;
        var first = finished.Min(j => j.Summary.FinishedAt.ToDateTime().AddSeconds(-j.Summary.Seconds));
        var wall = finished.Max(j => j.Summary.FinishedAt.ToDateTime()) - first;
        return string.Create(CultureInfo.InvariantCulture, $", {slotHours:F2} slot-hours over {(int)wall.TotalHours}:{wall:mm\\:ss} of wall time");
    }

    /// <summary>Where the sweep's file as submitted is kept: its folder holds its jobs' folder (OutputRoot), and the file beside it; empty when unknown.</summary>
    public static string SweepFileOf(SweepStatus status) =>
        status.OutputRoot.Length == 0 ? "" : Path.Combine(Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(status.OutputRoot))!, SweepFileName);

    /// <summary>The sweep's file as submitted (kept beside its results), and the models its jobs trained: what was compared, at the top.</summary>
    static void Settings(StringBuilder html, SweepStatus status)
    {
        string Models(JobKind kind) => string.Join(", ", status.Jobs.Where(j => j.Kind == kind && j.Summary is { Model.Length: > 0 }).Select(j => j.Summary.Model).Distinct().Order(StringComparer.Ordinal));
        string students = Models(JobKind.Student), teachers = Models(JobKind.Teacher);
        string file = SweepFileOf(status);
        bool hasFile = file.Length > 0 && File.Exists(file);
        if (students.Length == 0 && teachers.Length == 0 && !hasFile) return;
        html.Append("<h2>Settings</h2>");
        if (students.Length > 0 || teachers.Length > 0)
            html.Append($"<p id=\"models\">student model(s): {Escape(students.Length > 0 ? students : "none finished yet")}; " +
                        $"teacher model(s) trained here: {Escape(teachers.Length > 0 ? teachers : "none (given as checkpoints, or none)")}</p>");
        if (hasFile)
            html.Append("<details open=\"open\"><summary>the sweep file as submitted (dataset, models, epochs, optimizer, loss and what is swept)</summary>")
                .Append($"<pre id=\"settings\">{Escape(File.ReadAllText(file))}</pre></details>");
    }

    /// <summary>The best point, its gain over the student alone (flagged when negative), and a tie at the top said to be one.</summary>
    static void Best(StringBuilder html, SweepStatus status, SweepResults.Recipe best)
    {
        html.Append($"<h2>Best recipe</h2><p id=\"best\"><b>{Escape(Parameters(best))}</b>: {Escape(status.Metric)} {SweepResults.FormatMetric(status.Metric, best.MetricMean, best.MetricStd)}, " +
                    $"test accuracy {Percent(best.TestMean)} ± {Percent(best.TestStd)} over {best.Runs} seed(s)");
        if (best.Gain is { } gain)
            html.Append($"; gain over the student alone {Escape(gain.ToString())}" +
                        (gain.Mean < 0 ? " <b class=\"worse\">(worse than the student alone: distillation did not help this student here)</b>" : ""));
        if (best.Tied > 0)
            html.Append($". <span class=\"note\">A tie: {best.Tied} other point(s) have the same mean {Escape(status.Metric)}; " +
                        (status.Metric == "val_loss" ? "this one comes first in the plan." : $"this one has the lowest validation loss ({best.LossMean:F4}).") + "</span>");
        html.Append("</p>");
    }

    /// <summary>What the students are measured against: teachers (model, seed, accuracy, time), ensembles, and the student alone on labels.</summary>
    static void References(StringBuilder html, SweepStatus status)
    {
        var teachers = status.Jobs.Where(j => j.Kind is JobKind.Teacher or JobKind.SoftTargets && j.State == JobState.Done).ToList();
        var alone = status.Jobs.Where(j => j.Kind == JobKind.Baseline && j.State == JobState.Done).ToList();
        if (teachers.Count + alone.Count == 0) return;
        html.Append("<h2>Teachers and the student alone</h2><ul>")
            .AppendJoin("", teachers.Select(j => $"<li>{Escape(SweepResults.Describe(j))}{Seconds(j)}</li>"))
            .AppendJoin("", alone.Select(j => $"<li>the student alone on labels {Escape(j.JobId)} ({Escape(Shown(j))}): val {Percent(j.Summary.BestValidationAccuracy)}, " +
                                              $"test {Percent(j.Summary.TestAccuracy)}{Seconds(j)}</li>"))
            .Append("</ul>");
    }

    static string Seconds(JobStatus job) => job.Summary is { Seconds: > 0 } s ? string.Create(CultureInfo.InvariantCulture, $"; {s.Seconds:F0} s") : "";

    /// <summary>A job's swept values and seed, as a hover or a list shows them.</summary>
    public static string Shown(JobStatus job) =>
        string.Join(", ", job.Parameters.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}").Append($"seed {job.Seed}"));

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
                .Append($"<td>{r.Runs}</td><td>{SweepResults.FormatMetric(status.Metric, r.MetricMean, r.MetricStd)}</td><td>{Percent(r.TestMean)} ± {Percent(r.TestStd)}</td>");
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
        var seeds = status.Jobs.Where(j => j.Kind == JobKind.Student && (j.State == JobState.Done || j is { State: JobState.Stopped, Summary.BestEpoch: > 0 }) && j.Summary is not null)
            .GroupBy(j => SweepResults.PointKey(j.Parameters))
            .ToDictionary(g => g.Key, g => (IReadOnlyList<double>)g.Select(j => SweepResults.MetricOf(j.Summary, status.Metric)).ToList());
        foreach (string name in varying)
        {
            var values = Values(recipes, name);
            var dots = recipes.Select((r, i) => new Dot(values.IndexOf(r.Parameters.GetValueOrDefault(name, "")), r.MetricMean, r.MetricStd, i == 0,
                $"{Parameters(r)}: {SweepResults.FormatMetric(status.Metric, r.MetricMean, r.MetricStd)}", seeds.GetValueOrDefault(SweepResults.PointKey(r.Parameters)))).ToList();
            plots.Append(Dots($"{status.Metric} by {name}", name, status.Metric, values, dots, status.Metric == "val_loss" ? null : Fraction));
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
                plots.Append(Heatmap($"{status.Metric}: {varying[j]} x {varying[i]}{others}", varying[i], varying[j], xs, ys, cells, status.Maximize,
                    value => SweepResults.FormatMetric(status.Metric, value)));
            }
        if (plots.Length > 0)
            html.Append("<h2>By parameter</h2><p class=\"note\">Each dot is a point of the sweep (mean over seeds, whiskers ± std) at its value of the parameter; " +
                        "the rings beside it are its seeds.</p>").Append(plots);
    }

    static List<string> ParameterNames(IReadOnlyList<SweepResults.Recipe> recipes) =>
        recipes.SelectMany(r => r.Parameters.Keys).Distinct().Order(StringComparer.Ordinal).ToList();

    static string Parameters(SweepResults.Recipe recipe) =>
        recipe.Parameters.Count == 0 ? "(no parameters)" : string.Join(", ", recipe.Parameters.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));

    static string Percent(double value) => value.ToString("P2", CultureInfo.InvariantCulture);
}
