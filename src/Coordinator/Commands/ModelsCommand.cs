using System.CommandLine;
using Orchestrator.Distillation.Data;
using Orchestrator.Distillation.Models;

namespace Orchestrator.Coordinator.Commands;

/// <summary><c>orchestrator models [--dataset NAME]</c>: the model families a trial can name, with the parameter counts of a few of each and the stages feature losses compare.</summary>
public static class ModelsCommand
{
    public static Command Create()
    {
        var dataset = new Option<string>("--dataset") { Description = "Count parameters for this dataset's images and classes.", DefaultValueFactory = _ => "cifar100" };
        var command = new Command("models", "List the model families (MLPs, the studies' CNNs, the KD benchmark zoo) with parameter counts.") { dataset };
        command.SetAction(parse =>
        {
            Console.Write(Describe(DatasetRegistry.Get(parse.GetRequiredValue(dataset)).Info));
            return CommandLineRunner.Ok;
        });
        return command;
    }

    public static string Describe(DatasetInfo data)
    {
        var text = new System.Text.StringBuilder();
        text.AppendLine($"model families (parameters for {data.Name}: {data.Channels}x{data.Height}x{data.Width} images, {data.Classes} classes; --dataset names another):");
        foreach (var family in ModelRegistry.All)
        {
            text.AppendLine($"  {string.Join(", ", family.Patterns)}: {family.Summary}");
            if (!family.Examples.Any()) continue;
            text.AppendLine("      " + string.Join(", ", family.Examples.Select(name => $"{name} {Millions(ModelRegistry.Parameters(new ModelSpec(name), data))}")));
            if (ModelRegistry.StagesOf(new ModelSpec(family.Examples.First()), data) is { Count: > 0 } stages)
                text.AppendLine($"      stages (for loss.stages): {string.Join(", ", stages)}");
        }
        return text.ToString();
    }

    /// <summary>A parameter count as the KD papers print it: 1.23M, or 78.0k below a million.</summary>
    public static string Millions(long parameters) => parameters >= 1_000_000 ? $"{parameters / 1e6:F2}M" : $"{parameters / 1e3:F1}k";
}
