using System.Globalization;
using Orchestrator.Coordinator.Results;
using Shouldly;

namespace Orchestrator.Coordinator.Tests;

/// <summary>PED-ANOVA on synthetic points whose metric depends strongly on one parameter, a little on another and not on a third.</summary>
public sealed class ParameterImportanceTests
{
    static List<SweepResults.Recipe> Points(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ =>
        {
            double lr = Math.Pow(10, -4 + 3 * random.NextDouble()), noise = random.NextDouble();
            string loss = random.Next(2) == 0 ? "[ce, hinton]" : "[ce, dkd]";
            double metric = 0.9 - 0.05 * Math.Pow(Math.Log10(lr) + 2, 2) + (loss == "[ce, dkd]" ? 0.01 : 0) + 0.0001 * noise;
            var parameters = new Dictionary<string, string>
            {
                ["lr"] = lr.ToString("R", CultureInfo.InvariantCulture), ["losses"] = loss, ["noise"] = noise.ToString("R", CultureInfo.InvariantCulture),
                ["epochs"] = "10", // the same everywhere: not a parameter that varies
            };
            return new SweepResults.Recipe(parameters, 2, metric, 0, metric, 0, 0.5);
        }).ToList();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void The_parameter_that_drives_the_metric_ranks_first_and_one_that_does_not_ranks_last(int seed)
    {
        var importance = ParameterImportance.Of(Points(200, seed), maximize: true);
        importance.Select(i => i.Parameter).ShouldBe(["lr", "losses", "noise"]);
        importance.Sum(i => i.Importance).ShouldBe(1, tolerance: 1e-9);
        importance[0].Importance.ShouldBeGreaterThan(0.5);
        // Minimising the same metric asks which parameters make it bad: lr still matters most.
        ParameterImportance.Of(Points(200, seed), maximize: false)[0].Parameter.ShouldBe("lr");
    }

    [Fact]
    public void Too_few_points_give_no_importance()
    {
        ParameterImportance.Of(Points(ParameterImportance.MinPoints - 1, 1), maximize: true).ShouldBeEmpty();
        ParameterImportance.Of(Points(ParameterImportance.MinPoints, 1), maximize: true).ShouldNotBeEmpty();
    }
}
