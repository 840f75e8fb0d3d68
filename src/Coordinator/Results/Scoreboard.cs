using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.Results;

/// <summary>
/// A sweep's points and their scores over seeds, and the one ranking of them that the sweep's state, results.csv, the
/// command-line tables, the report and the API all use: by mean validation metric (never the test set) in the goal's
/// direction, and among equal means the point whose first finished student comes first in the plan. Pure.
/// </summary>
public sealed class Scoreboard(string metric, bool maximize)
{
    /// <summary>Each point's finished students (what its seeds are averaged over), by <see cref="SweepResults.PointKey"/>.</summary>
    readonly Dictionary<string, Point> points = [];
    /// <summary>Points by mean metric, made when the first student finishes; <see cref="Compare"/> orders them worst first.</summary>
    SortedSet<(double Mean, int First, string Key)>? ranking;

    /// <summary>
    /// A point's finished runs as running moments (Welford), so a finished student costs the same however many runs its
    /// point has. Its parameters are those of its first finished student (<see cref="First"/>), read from the plan.
    /// </summary>
    sealed class Point(int first)
    {
        public int First { get; set; } = first;
        /// <summary>Read from the plan the first time the point is shown (most points never are).</summary>
        public IReadOnlyDictionary<string, string>? Parameters { get; set; }
        public int Runs { get; private set; }
        public double Mean { get; private set; }
        public double TestMean { get; private set; }
        double squares, testSquares;

        public void Add(double metric, double test)
        {
            Runs++;
            double delta = metric - Mean, testDelta = test - TestMean;
            Mean += delta / Runs;
            TestMean += testDelta / Runs;
            squares += delta * (metric - Mean);
            testSquares += testDelta * (test - TestMean);
        }

        /// <summary>Mean and sample standard deviation of the metric and of the test accuracy, as <see cref="SweepResults.Recipe.Of"/> gives them.</summary>
        public SweepResults.Recipe Recipe(IReadOnlyDictionary<string, string> parameters) => new(parameters, Runs, Mean,
            Runs < 2 ? 0 : Math.Sqrt(squares / (Runs - 1)), TestMean, Runs < 2 ? 0 : Math.Sqrt(testSquares / (Runs - 1)));

        public PointSnapshot Saved(string key) => new()
        {
            Key = key, First = First, Runs = Runs, Mean = Mean, TestMean = TestMean, Squares = squares, TestSquares = testSquares,
        };

        public static Point Of(PointSnapshot saved) => new(saved.First)
        {
            Runs = saved.Runs, Mean = saved.Mean, TestMean = saved.TestMean, squares = saved.Squares, testSquares = saved.TestSquares,
        };
    }

    public int Count => points.Count;

    /// <summary>A finished student counts towards its point (points only grow): <paramref name="planIndex"/> is its place in the plan.</summary>
    public void Score(string key, int planIndex, TrialSummary summary)
    {
        if (points.TryGetValue(key, out var point)) ranking!.Remove((point.Mean, point.First, key));
        else point = new Point(planIndex);
        point.First = Math.Min(point.First, planIndex);
        point.Add(SweepResults.MetricOf(summary, metric), summary.TestAccuracy);
        Rank(key, point);
    }

    void Rank(string key, Point point)
    {
        ranking ??= new(Comparer<(double Mean, int First, string Key)>.Create(Compare));
        points[key] = point;
        ranking.Add((point.Mean, point.First, key));
    }

    /// <summary>
    /// Worst first: by mean (in the goal's direction), then a later first student below an earlier one, then (points
    /// whose place in the plan is unknown) by key; a total order, so no two points are ever the same to the set.
    /// </summary>
    int Compare((double Mean, int First, string Key) a, (double Mean, int First, string Key) b) =>
        a.Mean != b.Mean ? (maximize ? a.Mean.CompareTo(b.Mean) : b.Mean.CompareTo(a.Mean))
        : a.First != b.First ? b.First.CompareTo(a.First)
        : string.CompareOrdinal(b.Key, a.Key);

    /// <summary>The mean metric of a point with a finished student; null otherwise.</summary>
    public double? MeanOf(string key) => points.TryGetValue(key, out var point) ? point.Mean : null;

    /// <summary>The best point so far; null before a student finished. <paramref name="parametersAt"/> gives the parameters of the job at a plan index.</summary>
    public SweepResults.Recipe? Best(Func<int, IReadOnlyDictionary<string, string>> parametersAt)
    {
        if (ranking is not { Count: > 0 }) return null;
        var best = points[ranking.Max.Key];
        return best.Recipe(best.Parameters ??= parametersAt(best.First));
    }

    /// <summary>Every scored point's key, best first.</summary>
    public IEnumerable<string> Ranked() => ranking is null ? [] : ranking.Reverse().Select(r => r.Key);

    public IEnumerable<PointSnapshot> Saved() => points.Select(p => p.Value.Saved(p.Key));

    public void Restore(IEnumerable<PointSnapshot> saved)
    {
        foreach (var point in saved) Rank(point.Key, Point.Of(point));
    }
}
