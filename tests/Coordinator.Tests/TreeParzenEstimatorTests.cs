using Orchestrator.Coordinator.Benchmarks;
using Orchestrator.Coordinator.Search;
using Shouldly;

namespace Orchestrator.Coordinator.Tests;

/// <summary>The Tree-structured Parzen Estimator on known functions: it must find better points than random search, measurably.</summary>
public sealed class TreeParzenEstimatorTests
{
    const int Seeds = 30, Trials = 60;

    /// <summary>
    /// A sign test over 30 paired seeds: under "no better than random" a side wins at least 22 of 30 with probability
    /// 0.008; random search against itself (other seeds) must fail it, the estimator must pass it.
    /// </summary>
    const int Wins = 22;

    [Fact]
    public void It_beats_random_search_on_a_four_parameter_mixed_function_and_random_search_against_itself_does_not()
    {
        int tpeWins = 0, randomWins = 0;
        for (int seed = 0; seed < Seeds; seed++)
        {
            double random = BenchSearchCommand.Random(seed, Trials).Max();
            if (BenchSearchCommand.Tpe(seed, Trials).Max() > random) tpeWins++;
            if (BenchSearchCommand.Random(seed + 1000, Trials).Max() > random) randomWins++;
        }
        tpeWins.ShouldBeGreaterThanOrEqualTo(Wins);
        randomWins.ShouldBeLessThan(Wins);
    }

    [Fact]
    public void The_first_points_are_uniform_draws_and_then_proposals_follow_the_good_ones()
    {
        var space = new[] { new SearchDimension(DimensionKind.Uniform, 0, 1) };
        var estimator = new TreeParzenEstimator(space);
        // Ten finished points: the best near 0.9 (maximising x).
        var finished = Enumerable.Range(0, 10).Select(i => new Observation([i / 10.0], i / 10.0)).ToList();
        estimator.Propose(finished.Take(9).ToList(), [], maximize: true, new Random(1))[0]
            .ShouldBe(new Random(1).NextDouble()); // start-up: a uniform draw, as random search's
        var proposals = Enumerable.Range(0, 50).Select(seed => estimator.Propose(finished, [], maximize: true, new Random(seed))[0]).ToList();
        proposals.Average().ShouldBeGreaterThan(0.7);
        var minimising = Enumerable.Range(0, 50).Select(seed => estimator.Propose(finished, [], maximize: false, new Random(seed))[0]).ToList();
        minimising.Average().ShouldBeLessThan(0.3);
    }

    [Fact]
    public void Running_points_count_as_the_worst_so_parallel_proposals_spread_out()
    {
        var space = new[] { new SearchDimension(DimensionKind.Uniform, 0, 1), SearchDimension.Categorical(3) };
        var estimator = new TreeParzenEstimator(space);
        var random = new Random(5);
        var finished = Enumerable.Range(0, 20).Select(_ => { double x = random.NextDouble(); int c = random.Next(3); return new Observation([x, c], -Math.Abs(x - 0.5) + (c == 2 ? 1 : 0)); }).ToList();
        // Twenty proposals for twenty free slots, each told of those before it as running.
        var running = new List<IReadOnlyList<double>>();
        for (int i = 0; i < 20; i++) running.Add(estimator.Propose(finished, running, maximize: true, new Random(100 + i)));
        var alone = Enumerable.Range(0, 20).Select(i => estimator.Propose(finished, [], maximize: true, new Random(100 + i))).ToList();
        static double Spread(IEnumerable<IReadOnlyList<double>> points) { var xs = points.Select(p => p[0]).ToList(); double mean = xs.Average(); return xs.Average(x => (x - mean) * (x - mean)); }
        Spread(running).ShouldBeGreaterThan(Spread(alone));
        alone.Count(p => p[1] == 2).ShouldBeGreaterThan(15); // the good choice, natively categorical
    }

    [Fact]
    public void Proposals_are_within_the_space_and_the_same_for_the_same_inputs()
    {
        var estimator = new TreeParzenEstimator(BenchSearchCommand.Space);
        var random = new Random(2);
        var finished = Enumerable.Range(0, 30).Select(_ => { var p = BenchSearchCommand.Space.Select(d => d.Uniform(random)).ToArray(); return new Observation(p, BenchSearchCommand.Objective(p)); }).ToList();
        for (int seed = 0; seed < 200; seed++)
        {
            var p = estimator.Propose(finished, [], maximize: true, new Random(seed));
            p[0].ShouldBeInRange(0, 1);
            p[1].ShouldBeInRange(1e-4, 0.1);
            (p[2] is >= 1 and <= 10 && p[2] == Math.Round(p[2])).ShouldBeTrue();
            ((int)p[3]).ShouldBeInRange(0, 3);
        }
        estimator.Propose(finished, [], true, new Random(9)).ShouldBe(estimator.Propose(finished, [], true, new Random(9)));
        TreeParzenEstimator.Gamma(9).ShouldBe(1);
        TreeParzenEstimator.Gamma(100).ShouldBe(10);
        TreeParzenEstimator.Gamma(1000).ShouldBe(25);
    }
}
