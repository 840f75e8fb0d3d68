using System.Globalization;
using System.Text;
using System.Text.Json;
using Orchestrator.Distillation;
using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.Results;

/// <summary>A sweep's results table, and its best recipe: the parameter point with the best mean validation metric over seeds.</summary>
public static class SweepResults
{
    /// <summary>
    /// A point's gain over its baseline (the student alone on labels): per seed, the distilled student's test accuracy
    /// minus its baseline's; mean and sample std over the seeds with both. It exceeds the seeds' spread when, over at
    /// least two seeds, its size is more than the std over seeds of both the distilled students' and the baselines' test
    /// accuracies: the difference is larger than what changing the seed does to either.
    /// </summary>
    public sealed record Gain(int Runs, double Mean, double Std, double BaselineMean, double BaselineStd, bool ExceedsSpread)
    {
        public static Gain? Of(IReadOnlyList<(double Distilled, double Baseline)> pairs)
        {
            if (pairs.Count == 0) return null;
            var gains = pairs.Select(p => p.Distilled - p.Baseline).ToList();
            var baselines = pairs.Select(p => p.Baseline).ToList();
            double mean = gains.Average(), spread = Math.Max(SweepResults.Std(pairs.Select(p => p.Distilled).ToList()), SweepResults.Std(baselines));
            return new Gain(pairs.Count, mean, SweepResults.Std(gains), baselines.Average(), SweepResults.Std(baselines), pairs.Count >= 2 && Math.Abs(mean) > spread);
        }

        /// <summary>In percentage points, e.g. "+2.31 ± 0.40 pt (exceeds the seeds' spread)".</summary>
        public override string ToString() => string.Create(CultureInfo.InvariantCulture,
            $"{Mean * 100:+0.00;-0.00;0.00} ± {Std * 100:F2} pt{(Runs < 2 ? " (one seed)" : ExceedsSpread ? " (exceeds the seeds' spread)" : " (within the seeds' spread)")}");
    }

    /// <summary>
    /// One point of the search space with its runs over seeds: mean and sample std of the metric and of the test accuracy,
    /// the mean validation loss (what breaks a tie on the metric), and its gain over its baseline (null: none, or not measured here).
    /// </summary>
    /// <param name="Tied">How many other points have the same mean metric (<see cref="Scoreboard"/> ranks them).</param>
    public sealed record Recipe(IReadOnlyDictionary<string, string> Parameters, int Runs, double MetricMean, double MetricStd, double TestMean, double TestStd,
        double LossMean, Gain? Gain = null)
    {
        public int Tied { get; init; }

        /// <summary>A sweep with several objectives or constraints: the mean over its seeds of each objective and constrained measure, by name.</summary>
        public IReadOnlyDictionary<string, double> Measures { get; init; } = new Dictionary<string, double>();

        public Protocol.V1.Recipe ToProto() => new()
        {
            Parameters = { Parameters.ToDictionary() }, Runs = Runs, MetricMean = MetricMean, MetricStd = MetricStd, TestAccuracyMean = TestMean, TestAccuracyStd = TestStd,
            ValidationLossMean = LossMean, Tied = Tied, Measures = { Measures.ToDictionary() },
        };

        public static Recipe FromProto(Protocol.V1.Recipe best) =>
            new(best.Parameters, best.Runs, best.MetricMean, best.MetricStd, best.TestAccuracyMean, best.TestAccuracyStd, best.ValidationLossMean)
            {
                Tied = best.Tied, Measures = best.Measures,
            };
    }

    /// <summary>The point a student's parameters name: what its seeds are averaged over.</summary>
    public static string PointKey(IEnumerable<KeyValuePair<string, string>> parameters) =>
        string.Join(", ", parameters.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));

    /// <summary>How results name each kind of job, in the order the table lists them.</summary>
    public static readonly IReadOnlyDictionary<JobKind, string> KindNames = new Dictionary<JobKind, string>
    {
        [JobKind.Teacher] = "teacher",
        [JobKind.SoftTargets] = "soft-targets",
        [JobKind.Baseline] = "baseline",
        [JobKind.Student] = "student",
        [JobKind.SoftTargetShard] = "soft-target-shard",
    };

    /// <summary>The sweep's validation metric of a finished trial.</summary>
    public static double MetricOf(TrialSummary summary, string metric) => Measures.Of(summary, metric);

    /// <summary>A value of the metric as every table prints it: an accuracy in percent, as the test accuracy beside it; a loss as it is.</summary>
    public static string FormatMetric(string metric, double value) => Measures.Format(metric, value);

    /// <summary>A mean and its spread over seeds, formatted as <see cref="FormatMetric"/>.</summary>
    public static string FormatMetric(string metric, double mean, double std) => $"{FormatMetric(metric, mean)} ± {FormatMetric(metric, std)}";

    /// <summary>One epoch's value of the sweep's metric.</summary>
    public static double MetricOf(EpochMetrics epoch, string metric) => metric == "val_loss" ? epoch.ValidationLoss : epoch.ValidationAccuracy;

    public const string CsvFile = "results.csv";

    /// <summary>The best recipe, as every command prints it.</summary>
    public static string BestLine(SweepStatus status, Recipe best) => BestLine(status.Name, status.Metric, best);

    public static string BestLine(string sweep, string metric, Recipe best) =>
        $"{sweep}: best recipe on {metric} (mean over {best.Runs} seed(s)): {string.Join(", ", best.Parameters.Select(p => $"{p.Key}={p.Value}"))}  " +
        $"{metric} {FormatMetric(metric, best.MetricMean, best.MetricStd)}, test accuracy {best.TestMean:P2} ± {best.TestStd:P2}" +
        (best.Gain is { } gain ? $", gain over the student alone {gain} (alone: {gain.BaselineMean:P2} ± {gain.BaselineStd:P2})" : "") +
        (best.Tied == 0 ? "" : metric == "val_loss"
            ? $"; a tie: {best.Tied} other point(s) have the same mean {metric}, and this one comes first in the plan"
            : $"; a tie: {best.Tied} other point(s) have the same mean {metric}, and this one has the lowest validation loss ({best.LossMean:F4})");

    /// <summary>
    /// With several objectives: the Pareto front (<see cref="SweepStatus.Front"/>, means over seeds, among the points
    /// that keep the constraints), a line per point, then the answer: the front's point with the best second objective
    /// (the cheapest, when it is a cost), with its gain over the student alone where <paramref name="recipes"/> know it.
    /// Nothing for a sweep of one objective.
    /// </summary>
    public static IEnumerable<string> FrontLines(SweepStatus status, IReadOnlyList<Recipe>? recipes = null)
    {
        if (status.Objectives.Count == 0) yield break;
        var objectives = status.Objectives.Prepend(new Objective { Name = status.Metric, Maximize = status.Maximize }).ToList();
        string bounds = status.Constraints.Count == 0 ? "" : $" keeping {string.Join(", ", status.Constraints.Select(Describe))}";
        var gains = (recipes ?? []).Where(r => r.Gain is not null).ToDictionary(r => PointKey(r.Parameters), r => r.Gain!);
        var front = status.Front.Select(Recipe.FromProto).Select(r => r with { Gain = gains.GetValueOrDefault(PointKey(r.Parameters)) }).ToList();
        yield return $"{status.Name}: Pareto front of {string.Join(" and ", objectives.Select(o => $"{o.Name} ({(o.Maximize ? "max" : "min")})"))}{bounds}: {front.Count} point(s)";
        foreach (var point in front) yield return $"  {PointLine(point, objectives)}";
        var cost = objectives[1];
        var cheapest = cost.Maximize ? front.MaxBy(p => p.Measures[cost.Name]) : front.MinBy(p => p.Measures[cost.Name]);
        yield return cheapest is null
            ? $"{status.Name}: no point{bounds} has finished"
            : $"{status.Name}: best on {cost.Name}{bounds}: {PointLine(cheapest, objectives)}";
    }

    /// <summary>The points on the sweep's Pareto front, by <see cref="PointKey"/>; null for a sweep of one objective.</summary>
    public static IReadOnlySet<string>? FrontKeys(SweepStatus status) => FrontKeys(status.Objectives, status.Front);

    public static IReadOnlySet<string>? FrontKeys(IReadOnlyCollection<Objective> objectives, IEnumerable<Protocol.V1.Recipe> front) =>
        objectives.Count == 0 ? null : front.Select(r => PointKey(r.Parameters)).ToHashSet();

    static string PointLine(Recipe point, IReadOnlyList<Objective> objectives) =>
        $"{string.Join(", ", point.Parameters.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"))}: " +
        string.Join(", ", objectives.Select(o => $"{o.Name} {FormatMetric(o.Name, point.Measures.GetValueOrDefault(o.Name, double.NaN))}")) +
        $", test accuracy {point.TestMean:P2} ± {point.TestStd:P2} over {point.Runs} seed(s)" +
        (point.Gain is { } gain ? $", gain over the student alone {gain}" : "");

    static string Describe(Constraint c) => (c.HasMin, c.HasMax) switch
    {
        (true, true) => $"{FormatMetric(c.Name, c.Min)} <= {c.Name} <= {FormatMetric(c.Name, c.Max)}",
        (true, false) => $"{c.Name} >= {FormatMetric(c.Name, c.Min)}",
        _ => $"{c.Name} <= {FormatMetric(c.Name, c.Max)}",
    };

    /// <summary>The best point on the validation metric (never the test set), or null when no student trial finished.</summary>
    public static Recipe? Best(SweepStatus status) => Recipes(status).FirstOrDefault();

    /// <summary>
    /// Every point with a finished student trial, best first as the sweep's state ranks them (<see cref="Scoreboard"/>:
    /// the mean validation metric over seeds, then plan order); a student its sweep stopped after an epoch counts with
    /// its best checkpoint. Each point's gain is over the seeds whose baseline finished.
    /// </summary>
    public static IReadOnlyList<Recipe> Recipes(SweepStatus status)
    {
        var baselines = status.Jobs.Where(j => j is { Kind: JobKind.Baseline, State: JobState.Done, Summary.HasTestAccuracy: true })
            .ToDictionary(j => j.JobId, j => j.Summary.TestAccuracy);
        var students = status.Jobs
            .Where(j => j.Kind == JobKind.Student && (j.State == JobState.Done || j is { State: JobState.Stopped, Summary.BestEpoch: > 0 }) && j.Summary is not null)
            .OrderBy(j => j.PlanIndex).ToList();
        var scores = new Scoreboard(status.Metric, status.Maximize, Scoreboard.MeasuredBy(status.Metric, status.Objectives, status.Constraints));
        foreach (var student in students) scores.Score(PointKey(student.Parameters), student.PlanIndex, student.Summary);
        var points = students.GroupBy(j => PointKey(j.Parameters)).ToDictionary(g => g.Key);
        return scores.Ranked((key, _) => points[key].First().Parameters).Select(ranked => ranked.Recipe with
        {
            Gain = Gain.Of(points[ranked.Key].Where(j => baselines.ContainsKey(j.Baseline)).Select(j => (j.Summary.TestAccuracy, baselines[j.Baseline])).ToList()),
        }).ToList();
    }

    static double Std(IReadOnlyList<double> values)
    {
        if (values.Count < 2) return 0;
        double mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
    }

    /// <summary>
    /// results.csv and results.json: every job with its parameters, status, metrics and failure reason; for students,
    /// the soft targets they read; for soft-target aggregations, the ensemble's accuracy and each teacher's. Written
    /// as the jobs come (<paramref name="jobs"/> is read once for each file), so memory holds one row at any sweep size.
    /// </summary>
    /// <param name="parameterNames">Every parameter of the sweep's jobs (<see cref="SweepStatus.ParameterNames"/>): a column each.</param>
    /// <param name="jobs">The sweep's jobs in results order, a page at a time.</param>
    public static async Task WriteAsync(SweepStatus status, Func<IAsyncEnumerable<JobStatus>> jobs, string directory)
    {
        var table = new ResultsTable(status.ParameterNames, FrontKeys(status));
        await AtomicFile.WriteAsync(Path.Combine(directory, CsvFile), async stream =>
        {
            await using var writer = new StreamWriter(stream, leaveOpen: true);
            await table.WriteCsvAsync(jobs(), writer);
        });
        await AtomicFile.WriteAsync(Path.Combine(directory, "results.json"), stream => table.WriteJsonAsync(jobs(), stream));
    }

    /// <summary>Jobs as results list them: teachers, soft targets, students, generation shards; by id within a kind.</summary>
    public static IEnumerable<JobStatus> InTableOrder(IEnumerable<JobStatus> jobs) =>
        jobs.OrderBy(j => TableRank(j.Kind)).ThenBy(j => j.JobId, StringComparer.Ordinal);

    /// <summary>Where a kind of job comes in the results (first: a kind results do not name).</summary>
    public static int TableRank(JobKind kind) => KindRanks.GetValueOrDefault(kind, -1);

    static readonly IReadOnlyDictionary<JobKind, int> KindRanks = KindNames.Keys.Select((kind, rank) => (kind, rank)).ToDictionary(k => k.kind, k => k.rank);

    /// <summary>A finished teacher or soft-target job in one line: its accuracy, or its ensemble's and each member's.</summary>
    public static string Describe(JobStatus job)
    {
        var s = job.Summary;
        string accuracy = $"val {s.BestValidationAccuracy:P2}, test {s.TestAccuracy:P2}";
        if (job.Kind == JobKind.Teacher) return $"teacher {job.JobId}{(s.Model.Length > 0 ? $" ({s.Model}, seed {job.Seed})" : "")}: {accuracy}";
        string members = string.Join("; ", s.Teachers.Select(t => $"{t.ValidationAccuracy:P2} / {t.TestAccuracy:P2}"));
        string cached = s.SoftTargetsCached ? "; soft targets were already in the store" : "";
        if (s.Teachers.Count == 1) return $"soft targets {job.JobId} of one teacher ({s.Teachers[0].Checkpoint}){cached}";
        return $"ensemble {job.JobId} ({s.Teachers.Count} teachers, {job.Parameters.GetValueOrDefault("aggregation")}): {accuracy}; each teacher val / test: {members}{cached}";
    }

    /// <summary>One teacher of an ensemble, as the results table shows it.</summary>
    public static string Describe(TeacherAccuracy teacher) =>
        string.Create(CultureInfo.InvariantCulture, $"{teacher.Checkpoint} val {teacher.ValidationAccuracy:P2} test {teacher.TestAccuracy:P2}");
}
