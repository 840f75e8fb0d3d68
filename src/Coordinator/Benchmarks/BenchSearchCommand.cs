using System.CommandLine;
using Orchestrator.Coordinator.Commands;
using Orchestrator.Coordinator.Search;

namespace Orchestrator.Coordinator.Benchmarks;

/// <summary>
/// <c>orchestrator bench-search</c>: how many trials the Tree-structured Parzen Estimator needs to reach the best value
/// random search finds in 60, on a SYNTHETIC objective of four mixed parameters (no training), over many sampling seeds.
/// </summary>
public static class BenchSearchCommand
{
    /// <summary>
    /// A smooth 4-parameter objective to maximise, of the forms a distillation sweep has: a real in [0, 1] (alpha), a
    /// log-uniform real in [1e-4, 0.1] (a learning rate), an integer in [1, 10], and one of four choices (a loss
    /// combination). Its best, 1.25, is at (0.7, 10^-2.5, 7, choice 1).
    /// </summary>
    public static readonly IReadOnlyList<SearchDimension> Space =
    [
        new(DimensionKind.Uniform, 0, 1), new(DimensionKind.LogUniform, 1e-4, 0.1), new(DimensionKind.IntUniform, 1, 10), SearchDimension.Categorical(4),
    ];

    static readonly double[] ChoiceBonus = [0, 0.25, 0.1, 0];

    public static double Objective(IReadOnlyList<double> x) =>
        1 - 2 * Math.Pow(x[0] - 0.7, 2) - 0.5 * Math.Pow((Math.Log10(x[1]) + 2.5) / 1.5, 2) - Math.Pow((x[2] - 7) / 9, 2) + ChoiceBonus[(int)x[3]];

    /// <summary>The values random search finds in <paramref name="trials"/> draws with <paramref name="seed"/>, in order.</summary>
    public static IEnumerable<double> Random(int seed, int trials)
    {
        var random = new Random(seed);
        for (int i = 0; i < trials; i++) yield return Objective(Space.Select(d => d.Uniform(random)).ToArray());
    }

    /// <summary>The values the estimator finds, one trial after another (each proposal sees every earlier result), with <paramref name="seed"/>.</summary>
    public static IEnumerable<double> Tpe(int seed, int trials)
    {
        var estimator = new TreeParzenEstimator(Space);
        var random = new Random(seed);
        var finished = new List<Observation>();
        for (int i = 0; i < trials; i++)
        {
            var point = estimator.Propose(finished, [], maximize: true, random);
            finished.Add(new Observation(point, Objective(point)));
            yield return finished[^1].Value;
        }
    }

    public static Command Create()
    {
        var seeds = new Option<int>("--seeds") { Description = "Sampling seeds, each a pair of searches.", DefaultValueFactory = _ => 30 };
        var budget = new Option<int>("--random-trials") { Description = "The random search whose best value the estimator must reach.", DefaultValueFactory = _ => 60 };
        var command = new Command("bench-search", "[benchmark] Measure how many trials bayes (TPE) needs to match random search on a synthetic objective.") { seeds, budget };
        command.SetAction(parse => Run(parse.GetValue(seeds), parse.GetValue(budget)));
        return command;
    }

    static int Run(int seeds, int budget)
    {
        const int Cap = 500;
        var needed = new List<int>();
        var tpeBest = new List<double>();
        var randomBest = new List<double>();
        for (int seed = 0; seed < seeds; seed++)
        {
            double target = Random(seed, budget).Max();
            int trials = Tpe(seed, Cap).Select((value, i) => (value, i)).FirstOrDefault(t => t.value >= target, (0, Cap)).i + 1;
            needed.Add(trials);
            randomBest.Add(target);
            tpeBest.Add(Tpe(seed, budget).Max());
        }
        needed.Sort();
        double Quantile(double q) => needed[(int)Math.Round(q * (needed.Count - 1))];
        Console.WriteLine($"synthetic objective, 4 mixed parameters (best 1.25), {seeds} sampling seeds:");
        Console.WriteLine($"trials bayes (TPE) needs to reach random search's best of {budget}: median {Quantile(0.5)}, quartiles {Quantile(0.25)}-{Quantile(0.75)}, " +
                          $"range {needed[0]}-{needed[^1]}; within 20: {needed.Count(n => n <= 20)} of {seeds}");
        Console.WriteLine($"best after {budget} trials: bayes mean {tpeBest.Average():F4}, random mean {randomBest.Average():F4}; " +
                          $"bayes better on {tpeBest.Zip(randomBest, (t, r) => t > r).Count(better => better)} of {seeds} seeds");
        return CommandLineRunner.Ok;
    }
}
