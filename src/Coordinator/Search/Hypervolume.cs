namespace Orchestrator.Coordinator.Search;

/// <summary>
/// The hypervolume of two-objective losses (both minimised): the area that the points dominate up to a reference
/// point, the measure multi-objective search is judged by. The reference is Optuna's: each objective's worst value,
/// pushed out by a tenth of its magnitude, so every point contributes.
/// </summary>
public static class Hypervolume
{
    /// <summary>The area dominated by <paramref name="points"/> ([loss 1, loss 2] each) and bounded by <paramref name="reference"/>.</summary>
    public static double Of(IEnumerable<double[]> points, double[] reference)
    {
        double area = 0, ceiling = reference[1];
        foreach (var p in points.Where(p => p[0] < reference[0] && p[1] < reference[1]).OrderBy(p => p[0]).ThenBy(p => p[1]))
        {
            if (p[1] >= ceiling) continue; // dominated by a point to its left
            area += (reference[0] - p[0]) * (ceiling - p[1]);
            ceiling = p[1];
        }
        return area;
    }

    /// <summary>Each objective's worst value pushed out by a tenth of its magnitude (at least a small step), as Optuna's reference point.</summary>
    public static double[] Reference(IReadOnlyList<double[]> points) =>
        Enumerable.Range(0, 2).Select(k =>
        {
            double worst = points.Max(p => p[k]);
            return Math.Max(Math.Max(1.1 * worst, 0.9 * worst), worst + 1e-12);
        }).ToArray();

    /// <summary>
    /// <paramref name="count"/> of the points, chosen greedily: each time the one that adds the most hypervolume to those
    /// chosen (Optuna's subset selection for the rank that does not fit whole); their indices in choice order.
    /// </summary>
    public static IReadOnlyList<int> GreedySubset(IReadOnlyList<double[]> points, int count)
    {
        var reference = Reference(points);
        var chosen = new List<int>();
        while (chosen.Count < Math.Min(count, points.Count))
        {
            double before = Of(chosen.Select(i => points[i]), reference);
            int best = Enumerable.Range(0, points.Count).Where(i => !chosen.Contains(i))
                .MaxBy(i => Of(chosen.Select(j => points[j]).Append(points[i]), reference) - before);
            chosen.Add(best);
        }
        return chosen;
    }
}
