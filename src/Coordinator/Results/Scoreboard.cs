using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.Results;

/// <summary>
/// A sweep's points and their scores over seeds, and the one ranking of them that the sweep's state, results.csv, the
/// command-line tables, the report and the API all use: by mean validation metric (never the test set) in the goal's
/// direction; among equal means (several points at 100 % validation accuracy, say) the lower mean validation loss, then
/// the point whose first finished student comes first in the plan. With several objectives it also keeps each point's
/// means of the other objectives and of the constrained measures (<see cref="Measured"/>), and finds their Pareto front
/// (<see cref="Front"/>). Pure.
/// </summary>
/// <param name="measured">The measures besides <paramref name="metric"/> whose means each point keeps (<see cref="Measures"/>).</param>
public sealed class Scoreboard(string metric, bool maximize, IReadOnlyList<string>? measured = null)
{
    /// <summary>The measures besides the metric whose means each point keeps, in snapshot order.</summary>
    public IReadOnlyList<string> Measured { get; } = measured ?? [];

    /// <summary>The measures a sweep's points keep besides its metric: its other objectives' and its constraints', each once.</summary>
    public static IReadOnlyList<string> MeasuredBy(string metric, IEnumerable<Objective> objectives, IEnumerable<Constraint> constraints) =>
        objectives.Select(o => o.Name).Concat(constraints.Select(c => c.Name)).Where(n => n != metric).Distinct().ToList();

    /// <summary>Each point's finished students (what its seeds are averaged over), by <see cref="SweepResults.PointKey"/>.</summary>
    readonly Dictionary<string, Point> points = [];
    /// <summary>Points by mean metric, made when the first student finishes; <see cref="Compare"/> orders them worst first.</summary>
    SortedSet<Rank>? ranking;

    /// <summary>What a point is ranked by, in order (its key only makes the order total).</summary>
    readonly record struct Rank(double Mean, double LossMean, int First, string Key);

    /// <summary>
    /// A point's finished runs as running moments (Welford), so a finished student costs the same however many runs its
    /// point has. Its parameters are those of its first finished student (<see cref="First"/>), read from the plan.
    /// </summary>
    sealed class Point(int first, int measured)
    {
        public int First { get; set; } = first;
        /// <summary>Read from the plan the first time the point is shown (most points never are).</summary>
        public IReadOnlyDictionary<string, string>? Parameters { get; set; }
        public int Runs { get; private set; }
        public double Mean { get; private set; }
        public double TestMean { get; private set; }
        public double LossMean { get; private set; }
        /// <summary>The means of <see cref="Measured"/>.</summary>
        public double[] MeasureMeans { get; private set; } = new double[measured];
        double squares, testSquares;

        public Rank Rank(string key) => new(Mean, LossMean, First, key);

        public void Add(double metric, double test, double loss, double[] measures)
        {
            Runs++;
            for (int i = 0; i < measures.Length; i++) MeasureMeans[i] += (measures[i] - MeasureMeans[i]) / Runs;
            double delta = metric - Mean, testDelta = test - TestMean;
            Mean += delta / Runs;
            TestMean += testDelta / Runs;
            LossMean += (loss - LossMean) / Runs;
            squares += delta * (metric - Mean);
            testSquares += testDelta * (test - TestMean);
        }

        /// <summary>Mean and sample standard deviation of the metric and of the test accuracy, and the mean validation loss.</summary>
        public SweepResults.Recipe Recipe(IReadOnlyDictionary<string, string> parameters, int tied, string metric, IReadOnlyList<string> measured) => new(parameters, Runs, Mean,
            Runs < 2 ? 0 : Math.Sqrt(squares / (Runs - 1)), TestMean, Runs < 2 ? 0 : Math.Sqrt(testSquares / (Runs - 1)), LossMean)
        {
            Tied = tied,
            Measures = measured.Select((name, i) => (name, MeasureMeans[i])).Prepend((metric, Mean)).ToDictionary(m => m.Item1, m => m.Item2),
        };

        public PointSnapshot Saved(string key) => new()
        {
            Key = key, First = First, Runs = Runs, Mean = Mean, TestMean = TestMean, Squares = squares, TestSquares = testSquares, LossMean = LossMean,
            MeasureMeans = { MeasureMeans },
        };

        public static Point Of(PointSnapshot saved, int measured) => new(saved.First, measured)
        {
            Runs = saved.Runs, Mean = saved.Mean, TestMean = saved.TestMean, LossMean = saved.LossMean, squares = saved.Squares, testSquares = saved.TestSquares,
            MeasureMeans = saved.MeasureMeans.Count == measured ? saved.MeasureMeans.ToArray() : new double[measured],
        };
    }

    public int Count => points.Count;

    /// <summary>A finished student counts towards its point (points only grow): <paramref name="planIndex"/> is its place in the plan.</summary>
    public void Score(string key, int planIndex, TrialSummary summary)
    {
        if (points.TryGetValue(key, out var point)) ranking!.Remove(point.Rank(key));
        else point = new Point(planIndex, Measured.Count);
        point.First = Math.Min(point.First, planIndex);
        point.Add(SweepResults.MetricOf(summary, metric), summary.TestAccuracy, summary.BestValidationLoss, Measured.Select(m => Measures.Of(summary, m)).ToArray());
        Add(key, point);
    }

    void Add(string key, Point point)
    {
        ranking ??= new(Comparer<Rank>.Create(Compare));
        points[key] = point;
        ranking.Add(point.Rank(key));
    }

    /// <summary>
    /// Worst first: by mean (in the goal's direction), then a higher mean validation loss below a lower one, then a later
    /// first student below an earlier one, then (points whose place in the plan is unknown) by key; a total order, so no
    /// two points are ever the same to the set.
    /// </summary>
    int Compare(Rank a, Rank b) =>
        a.Mean != b.Mean ? (maximize ? a.Mean.CompareTo(b.Mean) : b.Mean.CompareTo(a.Mean))
        : a.LossMean != b.LossMean ? b.LossMean.CompareTo(a.LossMean)
        : a.First != b.First ? b.First.CompareTo(a.First)
        : string.CompareOrdinal(b.Key, a.Key);

    /// <summary>The mean metric of a point with a finished student; null otherwise.</summary>
    public double? MeanOf(string key) => points.TryGetValue(key, out var point) ? point.Mean : null;

    /// <summary>A point's mean of one of the <see cref="Measured"/> (NaN when no student of it finished, or it lacks the number).</summary>
    public double MeanOf(string key, string measure) =>
        points.TryGetValue(key, out var point) && Measured.ToList().IndexOf(measure) is var i and >= 0 ? point.MeasureMeans[i] : double.NaN;

    /// <summary>The best point so far; null before a student finished. <paramref name="parametersOf"/> gives a point's parameters from its key and its first student's plan index.</summary>
    public SweepResults.Recipe? Best(Func<string, int, IReadOnlyDictionary<string, string>> parametersOf) => Ranked(parametersOf).FirstOrDefault().Recipe;

    /// <summary>
    /// Every scored point, best first, with its key and its recipe (<see cref="SweepResults.Recipe.Tied"/>: how many other
    /// points share its mean); made as they are read, so the best alone costs the points tied with it.
    /// </summary>
    public IEnumerable<(string Key, SweepResults.Recipe Recipe)> Ranked(Func<string, int, IReadOnlyDictionary<string, string>> parametersOf)
    {
        if (ranking is null) yield break;
        var tied = new List<Rank>(); // consecutive points of one mean
        foreach (var rank in ranking.Reverse())
        {
            if (tied.Count > 0 && rank.Mean != tied[0].Mean)
            {
                foreach (var point in tied) yield return Ranked(point, tied.Count - 1, parametersOf);
                tied.Clear();
            }
            tied.Add(rank);
        }
        foreach (var point in tied) yield return Ranked(point, tied.Count - 1, parametersOf);
    }

    (string Key, SweepResults.Recipe Recipe) Ranked(Rank rank, int tied, Func<string, int, IReadOnlyDictionary<string, string>> parametersOf)
    {
        var point = points[rank.Key];
        return (rank.Key, point.Recipe(point.Parameters ??= parametersOf(rank.Key, point.First), tied, metric, Measured));
    }

    /// <summary>
    /// The Pareto front of the metric and <paramref name="objectives"/> (means over seeds) among the points that keep
    /// every constraint, best first by the metric; each with its rank among all points (<see cref="Ranked"/>'s order).
    /// </summary>
    public IReadOnlyList<SweepResults.Recipe> Front(IReadOnlyList<Objective> objectives, IReadOnlyList<Constraint> constraints,
        Func<string, int, IReadOnlyDictionary<string, string>> parametersOf)
    {
        var names = objectives.Select(o => o.Name).Prepend(metric).ToList();
        var directions = objectives.Select(o => o.Maximize).Prepend(maximize).ToList();
        var feasible = Ranked(parametersOf).Where(p => constraints.All(c => c.Holds(p.Recipe.Measures.GetValueOrDefault(c.Name, double.NaN)))).ToList();
        var ranks = ParetoFront.Ranks(feasible.Select(p => names.Select(n => p.Recipe.Measures.GetValueOrDefault(n, double.NaN)).ToArray()).ToList(), directions, maxRank: 1);
        return feasible.Where((_, i) => ranks[i] == 1).Select(p => p.Recipe).ToList();
    }

    public IEnumerable<PointSnapshot> Saved() => points.Select(p => p.Value.Saved(p.Key));

    public void Restore(IEnumerable<PointSnapshot> saved)
    {
        foreach (var point in saved) Add(point.Key, Point.Of(point, Measured.Count));
    }
}
