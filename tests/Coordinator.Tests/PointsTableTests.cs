using Orchestrator.Coordinator.Commands;
using Orchestrator.Coordinator.Results;
using Orchestrator.Protocol.V1;
using Shouldly;

namespace Orchestrator.Coordinator.Tests;

/// <summary>The end-of-sweep table: every row has the header's cells, with and without parameters and baselines.</summary>
public class PointsTableTests
{
    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void Every_row_has_as_many_cells_as_the_header(bool parameters, bool baselines)
    {
        var point = new Dictionary<string, string>();
        if (parameters) point["alpha"] = "0.5";
        var gain = baselines ? new SweepResults.Gain(3, 0.01, 0.002, 0.88, 0.001, true) : null;
        var recipes = new[] { new SweepResults.Recipe(point, 3, 0.89, 0.001, 0.885, 0.002, 0.3, gain), new SweepResults.Recipe(point, 3, 0.88, 0.001, 0.875, 0.002, 0.3) };
        var lines = SweepConsole.PointsTable(new SweepStatus { Metric = "val_accuracy" }, recipes).Split('\n');
        var cells = lines.Select(line => line.Trim().Trim('|').Split('|').Length).ToList();
        lines.Length.ShouldBe(4);
        cells.Distinct().ShouldBe([(parameters ? 1 : 0) + 3 + (baselines ? 2 : 0)], string.Join("\n", lines));
    }
}
