using System.CommandLine;
using Google.Protobuf;
using Orchestrator.Distillation;
using Orchestrator.Distillation.Trials;
using Proto = Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.Commands;

/// <summary>
/// <c>orchestrator summarize &lt;folder&gt;...</c>: every summary.json below the folders, grouped by trial name,
/// as mean ± sample standard deviation over seeds. Test accuracy is that of each run's checkpoint chosen on validation.
/// </summary>
public static class SummarizeCommand
{
    public static Command Create()
    {
        var folders = new Argument<DirectoryInfo[]>("folder") { Description = "Folders to search for summary.json files.", Arity = ArgumentArity.OneOrMore };
        var command = new Command("summarize", "Mean ± std over seeds of the trials found in output folders, as a Markdown table.") { folders };
        command.SetAction(parse =>
        {
            Console.Write(Table(Load(parse.GetRequiredValue(folders))));
            return CommandLineRunner.Ok;
        });
        return command;
    }

    public static IReadOnlyList<Proto.TrialSummary> Load(IEnumerable<DirectoryInfo> folders)
    {
        var summaries = new List<Proto.TrialSummary>();
        foreach (var folder in folders)
        {
            if (!folder.Exists) throw new UserInputException($"{folder.FullName}: folder not found.");
            foreach (var file in folder.EnumerateFiles(TrialFolder.SummaryFile, SearchOption.AllDirectories).OrderBy(f => f.FullName, StringComparer.Ordinal))
            {
                try { summaries.Add(JsonParser.Default.Parse<Proto.TrialSummary>(File.ReadAllText(file.FullName))); }
                catch (InvalidProtocolBufferException e) { throw new UserInputException($"{file.FullName}: not a trial summary ({e.Message}).", e); }
            }
        }
        if (summaries.Count == 0) throw new UserInputException($"no {TrialFolder.SummaryFile} found below {string.Join(", ", folders.Select(f => f.FullName))}.");
        return summaries;
    }

    public static string Table(IEnumerable<Proto.TrialSummary> summaries)
    {
        var text = new System.Text.StringBuilder();
        text.AppendLine("| trial | model | runs | failed | best val accuracy (%) | test accuracy (%) | teacher test (%) |");
        text.AppendLine("|---|---|---:|---:|---:|---:|---:|");
        foreach (var group in summaries.GroupBy(s => s.Name))
        {
            var finished = group.Where(s => s.HasTestAccuracy).ToList();
            var teachers = group.Where(s => s.HasTeacherTestAccuracy).Select(s => s.TeacherTestAccuracy).ToList();
            text.AppendLine($"| {group.Key} | {group.First().Model} | {group.Count()} | {group.Count(s => s.Status == Proto.TrialStatus.Failed)} | " +
                            $"{MeanStd(finished.Select(s => s.BestValidationAccuracy))} | {MeanStd(finished.Select(s => s.TestAccuracy))} | {MeanStd(teachers)} |");
        }
        return text.ToString();
    }

    /// <summary>Percentages as "mean ± sample std (n-1)", or "-" when there is nothing to average.</summary>
    public static string MeanStd(IEnumerable<double> fractions)
    {
        var values = fractions.Select(v => v * 100).ToList();
        if (values.Count == 0) return "-";
        double mean = values.Average();
        if (values.Count == 1) return $"{mean:F2}";
        double std = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
        return $"{mean:F2} ± {std:F2}";
    }
}
