using System.CommandLine;
using Orchestrator.Coordinator.Planning;
using Orchestrator.Distillation.Data;
using Orchestrator.Distillation.Models;

namespace Orchestrator.Coordinator.Commands;

/// <summary><c>orchestrator validate &lt;sweep.yaml&gt;</c>: reads and expands a sweep without running anything.</summary>
public static class ValidateCommand
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("sweep.yaml") { Description = "The sweep file (docs/sweep-file.md)." };
        var show = new Option<int>("--show") { Description = "How many planned trials to list.", DefaultValueFactory = _ => 10 };
        var dataDir = new DataDirOption();
        var command = new Command("validate", "Check a sweep file and show what it expands to, and whether its datasets are on this machine; runs nothing.")
        {
            file, show, dataDir,
        };
        command.SetAction(parse =>
        {
            dataDir.Apply(parse);
            var sweep = SweepFile.Load(parse.GetRequiredValue(file).FullName);
            var plan = SweepPlanner.Plan(sweep, Path.Combine("runs", sweep.Name));
            Console.Write(Describe(plan, parse.GetValue(show)));
            // A warning, not an error: the file is valid, and a cluster's nodes may hold data this machine lacks.
            foreach (string missing in SweepPlanner.MissingDatasets(plan))
                Console.WriteLine($"warning: {missing} `local` stops until it is there; on a cluster, every GPU node needs it.");
            return CommandLineRunner.Ok;
        });
        return command;
    }

    public static string Describe(SweepPlan plan, int show)
    {
        var sweep = plan.Sweep;
        var text = new System.Text.StringBuilder();
        string goal = $"chooses on {sweep.Metric.Name} ({(sweep.Metric.Maximize ? "maximize" : "minimize")}{(sweep.Metric.Target is { } t ? $", target {t}" : "")})" +
                      (sweep.OtherObjectives.Count == 0 ? "" : $"; Pareto front with {string.Join(" and ", sweep.OtherObjectives.Select(o => $"{o.Name} ({(o.Maximize ? "maximize" : "minimize")})"))}") +
                      (sweep.Constraints.Count == 0 ? "" : $", keeping {string.Join(", ", sweep.Constraints)}");
        text.AppendLine(sweep.Method == SearchMethod.Bayes
            ? $"{sweep.Name}: valid. bayes search (TPE): proposes {sweep.RunCap} point(s) x {sweep.Seeds.Count} seed(s) as slots free up; every listed value and range end checked; {goal}."
            : $"{sweep.Name}: valid. {sweep.Method.Name()} search, {Trials(plan)}, {plan.Teachers.Count} teacher job(s), {plan.SoftTargetJobs.Count} soft-target job(s); {goal}.");
        foreach (var line in ModelSizes(plan)) text.AppendLine(line);
        if (sweep.EarlyTerminate is { } early)
            text.AppendLine($"  early_terminate: hyperband, eta {early.Eta}{(early.Strict ? ", strict" : "")}, bands at epochs {string.Join(", ", plan.Bands)}");
        foreach (var parameter in sweep.Parameters)
            text.AppendLine($"  {parameter.Name} -> {string.Join(" + ", parameter.Paths.Select(p => string.Join('.', p)))}: " +
                            (parameter.IsDistribution ? $"{parameter.Distribution} [{parameter.Min}, {parameter.Max}]" : $"{parameter.Values.Count} value(s)"));
        foreach (var job in plan.Teachers)
            text.AppendLine($"  {job.Id}  {job.Config!.Model.Name}, seed {job.Config.Training.Seed}, {job.Config.Training.Epochs} epochs{Format(job.Parameters)}");
        foreach (var job in plan.Jobs.Where(j => j.Kind == Protocol.V1.JobKind.SoftTargets))
            text.AppendLine($"  {job.Id}  {job.SoftTargets!.Teachers.Members.Count} teacher(s), {Distillation.SoftTargets.TeacherEnsemble.NameOf(job.SoftTargets.Teachers.Aggregation)}, " +
                            (job.SoftTargets.Teachers.Views is { } views ? $"{views.Count} augmented views, " : "") + $"{job.DependsOn.Count} generation job(s)");
        foreach (var job in plan.Students.Take(show))
            text.AppendLine($"  {job.Id}  seed {job.Config!.Training.Seed}{Format(job.Parameters)}{(job.DependsOn.Count == 0 ? "" : $"  <- {string.Join(", ", job.DependsOn)}")}");
        if (plan.Students.Count > show) text.AppendLine($"  ... and {plan.Students.Count - show} more");
        foreach (var job in plan.Baselines.Take(show))
            text.AppendLine($"  {job.Id}  baseline (the student alone on labels), seed {job.Config!.Training.Seed}{Format(job.Parameters)}");
        if (plan.Baselines.Count > show) text.AppendLine($"  ... and {plan.Baselines.Count - show} more baseline(s)");
        return text.ToString();
    }

    /// <summary>Each model the plan trains with its parameter count, per dataset shape: what a student costs before it runs.</summary>
    static IEnumerable<string> ModelSizes(SweepPlan plan) =>
        plan.Jobs.Where(j => j.Config is not null)
            .Select(j => (j.Config!.Model, j.Config.Data))
            .Distinct()
            .Select(m => (m.Model, Data: DatasetRegistry.Get(m.Data).Info)) // a dataset's shape read once per distinct model, not per job
            .Distinct()
            .GroupBy(m => m.Data)
            .Select(g => $"  models on {g.Key.Name} ({g.Key.Channels}x{g.Key.Height}x{g.Key.Width}, {g.Key.Classes} classes): " +
                         string.Join(", ", g.Select(m => $"{m.Model.Name} {ModelsCommand.Millions(ModelRegistry.Parameters(m.Model, m.Data))} parameters")));

    /// <summary>
    /// Points x seeds, and what they come to: a labels-only point (a [ce] among loss combinations) is the distilled points'
    /// baselines, so it is not trained twice; the sum is said so that it adds up.
    /// </summary>
    static string Trials(SweepPlan plan)
    {
        int seeds = plan.Sweep.Seeds.Count, asked = plan.Points * seeds;
        string students = plan.Students.Count == asked
            ? $"{asked} student trial(s)"
            : $"{asked} trial(s): {plan.Students.Count} student trial(s) to run, {asked - plan.Students.Count} labels-only (trained as the baselines, or the same as another)";
        return $"{plan.Points} point(s) x {seeds} seed(s) = {students}, and {plan.Baselines.Count} baseline(s) (each distilled student alone on labels, same seed)";
    }

    static string Format(IReadOnlyDictionary<string, string> parameters) =>
        parameters.Count == 0 ? "" : "  " + string.Join("  ", parameters.Select(p => $"{p.Key}={p.Value}"));
}
