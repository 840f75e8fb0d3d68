using Orchestrator.Coordinator.Search;
using Shouldly;

namespace Orchestrator.Coordinator.Tests;

/// <summary>
/// Multi-objective TPE on ZDT1 (Zitzler, Deb and Thiele 2000: two objectives to minimise, a convex front): the
/// hypervolume its 40 proposals reach must beat random search's on at least 25 of 30 paired seeds (a sign test:
/// under "no better than random" that happens with probability 0.0002); random search against itself must not.
/// </summary>
public sealed class MultiObjectiveTpeTests
{
    const int Seeds = 30, Proposals = 40, Wins = 25, Dimensions = 4;

    static readonly SearchDimension[] Space = Enumerable.Repeat(new SearchDimension(DimensionKind.Uniform, 0, 1), Dimensions).ToArray();

    /// <summary>ZDT1: f1 = x0, f2 = g (1 - sqrt(f1 / g)) with g = 1 + 9 mean(x1..): the front is g = 1, f2 = 1 - sqrt(f1).</summary>
    static double[] Zdt1(IReadOnlyList<double> x)
    {
        double g = 1 + 9 * x.Skip(1).Average();
        return [x[0], g * (1 - Math.Sqrt(x[0] / g))];
    }

    static readonly double[] Reference = [1.1, 11]; // beyond the worst ZDT1 values over the cube

    static double TpeHypervolume(int seed)
    {
        var estimator = new TreeParzenEstimator(Space);
        var random = new Random(seed);
        var finished = new List<Observations>();
        for (int i = 0; i < Proposals; i++)
        {
            var point = estimator.Propose(finished, [], [false, false], random);
            finished.Add(new Observations(point, Zdt1(point)));
        }
        return Hypervolume.Of(finished.Select(o => o.Values.ToArray()), Reference);
    }

    static double RandomHypervolume(int seed)
    {
        var random = new Random(seed);
        return Hypervolume.Of(Enumerable.Range(0, Proposals).Select(_ => Zdt1(Space.Select(d => d.Uniform(random)).ToArray())), Reference);
    }

    [Fact]
    public void It_reaches_more_hypervolume_than_random_search_on_zdt1_and_random_search_against_itself_does_not()
    {
        int tpeWins = 0, randomWins = 0;
        for (int seed = 0; seed < Seeds; seed++)
        {
            double random = RandomHypervolume(seed);
            if (TpeHypervolume(seed) > random) tpeWins++;
            if (RandomHypervolume(seed + 1000) > random) randomWins++;
        }
        tpeWins.ShouldBeGreaterThanOrEqualTo(Wins);
        randomWins.ShouldBeLessThan(Wins);
    }

    [Fact]
    public void The_hypervolume_of_two_objectives_is_the_area_its_points_dominate()
    {
        // Two steps and a dominated point: [0,1]x... up to (3, 3): (3-1)(3-2) + (3-2)(2-1) = 3.
        Hypervolume.Of([[1, 2], [2, 1], [2.5, 2.5]], [3, 3]).ShouldBe(3);
        Hypervolume.Of([], [3, 3]).ShouldBe(0);
        // Greedy subset: the point that adds most first, then the next.
        Hypervolume.GreedySubset([[0, 10], [5, 5], [10, 0], [6, 6]], 2).ShouldBe([1, 0]);
    }

    [Fact]
    public void Proposals_follow_the_front_and_running_points_count_as_dominated()
    {
        var estimator = new TreeParzenEstimator(Space);
        // Twenty finished points; the good ones have x1..x3 near 0 (g = 1: on the front).
        var random = new Random(3);
        var finished = Enumerable.Range(0, 20).Select(i =>
        {
            double[] x = [random.NextDouble(), i < 5 ? 0.02 : 0.8, i < 5 ? 0.02 : 0.8, i < 5 ? 0.02 : 0.8];
            return new Observations(x, Zdt1(x));
        }).ToList();
        var proposals = Enumerable.Range(0, 40).Select(seed => estimator.Propose(finished, [], [false, false], new Random(seed))).ToList();
        proposals.Average(p => p.Skip(1).Average()).ShouldBeLessThan(0.4);
        estimator.Propose(finished, [[0.5, 0.02, 0.02, 0.02]], [false, false], new Random(1)).ShouldBe(estimator.Propose(finished, [[0.5, 0.02, 0.02, 0.02]], [false, false], new Random(1)));
    }
}
