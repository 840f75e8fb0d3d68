using Orchestrator.Coordinator.Results;
using Shouldly;

namespace Orchestrator.Coordinator.Tests;

/// <summary>Pareto ranks by non-dominated sorting against a brute-force definition, with ties, duplicates and missing numbers.</summary>
public sealed class ParetoFrontTests
{
    /// <summary>Rank by the definition: a point's rank is 1 + the longest chain of points dominating it.</summary>
    static int[] BruteForce(IReadOnlyList<double[]> points, bool[] maximize)
    {
        var ranks = new int[points.Count];
        var left = Enumerable.Range(0, points.Count).Where(i => !points[i].Any(double.IsNaN)).ToHashSet();
        for (int rank = 1; left.Count > 0; rank++)
        {
            var front = left.Where(i => !left.Any(j => j != i && Dominates(points[j], points[i], maximize))).ToList();
            foreach (int i in front) { ranks[i] = rank; left.Remove(i); }
        }
        return ranks;
    }

    static bool Dominates(double[] a, double[] b, bool[] maximize) =>
        Enumerable.Range(0, a.Length).All(k => maximize[k] ? a[k] >= b[k] : a[k] <= b[k]) &&
        Enumerable.Range(0, a.Length).Any(k => maximize[k] ? a[k] > b[k] : a[k] < b[k]);

    [Theory]
    [InlineData(2, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 3)]
    [InlineData(4, 4)]
    public void Ranks_are_the_definitions_on_random_points_with_ties_and_missing_values(int objectives, int seed)
    {
        var random = new Random(seed);
        var maximize = Enumerable.Range(0, objectives).Select(k => k % 2 == 0).ToArray();
        for (int round = 0; round < 20; round++)
        {
            // Few distinct values, so many ties and duplicate points; now and then a missing number.
            var points = Enumerable.Range(0, random.Next(1, 60)).Select(_ => Enumerable.Range(0, objectives)
                .Select(_ => random.Next(20) == 0 ? double.NaN : random.Next(6)).ToArray()).ToList();
            ParetoFront.Ranks(points, maximize).ShouldBe(BruteForce(points, maximize), $"round {round}");
        }
    }

    [Fact]
    public void A_trade_off_is_one_front_and_a_dominated_point_ranks_behind_it()
    {
        // accuracy (max) vs latency (min): three on the front, one dominated by the middle one, one missing a number.
        double[][] points = [[0.90, 5], [0.85, 2], [0.80, 1], [0.84, 3], [0.95, double.NaN]];
        ParetoFront.Ranks(points, [true, false]).ShouldBe([1, 1, 1, 2, 0]);
        ParetoFront.Ranks(points, [true, false], maxRank: 1).ShouldBe([1, 1, 1, 0, 0]);
    }
}
