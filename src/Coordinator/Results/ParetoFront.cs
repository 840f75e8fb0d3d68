namespace Orchestrator.Coordinator.Results;

/// <summary>
/// Pareto ranks by non-dominated sorting (as NSGA-II defines them): rank 1 is the front, the points no other point
/// dominates; rank 2 the front of the rest; and so on. A point dominates another when it is at least as good in every
/// objective and better in one. Each front is found in one pass over the points in lexicographic order, best first
/// (a point can only be dominated by one before it), against that front's members only: O(n x front size) per rank.
/// </summary>
public static class ParetoFront
{
    /// <summary>Each point's rank (1 = the front); 0 for a point with a NaN objective, which is not ranked.</summary>
    /// <param name="values">Each point's objective values, in the order of <paramref name="maximize"/>.</param>
    public static int[] Ranks(IReadOnlyList<double[]> values, IReadOnlyList<bool> maximize, int maxRank = int.MaxValue)
    {
        var ranks = new int[values.Count];
        var remaining = Enumerable.Range(0, values.Count).Where(i => !values[i].Any(double.IsNaN)).ToList();
        remaining.Sort((a, b) => Lexicographic(values[a], values[b], maximize));
        for (int rank = 1; remaining.Count > 0 && rank <= maxRank; rank++)
        {
            var front = new List<int>();
            foreach (int i in remaining)
                if (!front.Any(j => Dominates(values[j], values[i], maximize))) front.Add(i);
            foreach (int i in front) ranks[i] = rank;
            remaining = remaining.Where(i => ranks[i] == 0).ToList(); // still in lexicographic order
        }
        return ranks;
    }

    /// <summary>Whether <paramref name="a"/> is at least as good as <paramref name="b"/> in every objective and better in one.</summary>
    public static bool Dominates(double[] a, double[] b, IReadOnlyList<bool> maximize)
    {
        bool better = false;
        for (int k = 0; k < a.Length; k++)
        {
            int c = Better(a[k], b[k], maximize[k]);
            if (c < 0) return false;
            better |= c > 0;
        }
        return better;
    }

    /// <summary>Positive when x is better than y in an objective of this direction, negative when worse, 0 when equal.</summary>
    static int Better(double x, double y, bool maximize) => maximize ? x.CompareTo(y) : y.CompareTo(x);

    /// <summary>Best first: by the first objective, then the next, ...</summary>
    static int Lexicographic(double[] a, double[] b, IReadOnlyList<bool> maximize)
    {
        for (int k = 0; k < a.Length; k++)
            if (Better(a[k], b[k], maximize[k]) is var c and not 0) return -c;
        return 0;
    }
}

/// <summary>A sweep's <c>constraints</c> as the scoreboard checks them.</summary>
public static class ConstraintChecks
{
    /// <summary>Whether a point's mean keeps the bound: a missing number (NaN) keeps none.</summary>
    public static bool Holds(this Protocol.V1.Constraint constraint, double mean) =>
        !double.IsNaN(mean) && !(constraint.HasMin && mean < constraint.Min) && !(constraint.HasMax && mean > constraint.Max);
}
