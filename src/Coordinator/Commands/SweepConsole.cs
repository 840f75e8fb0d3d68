using Akka.Actor;
using Orchestrator.Coordinator.Cluster;
using Orchestrator.Coordinator.Sweeps;
using Orchestrator.Protocol.V1;
using Spectre.Console;

namespace Orchestrator.Coordinator.Commands;

/// <summary>A sweep on this machine's console (<c>local</c>): submitting it, following it to the end, and printing its results.</summary>
public static class SweepConsole
{
    /// <summary>Submits (or resumes) the sweep, its jobs writing under its plan's folder, and waits until every job has finished.</summary>
    public static async Task<SweepStatus> SubmitAndFollowAsync(IActorRef sweeps, SweepPlan plan, string softTargetStore, SweepProgressView view,
        bool live, CancellationToken cancellation)
    {
        var accepted = await SweepRegion.Submit(sweeps, plan, softTargetStore, SweepRegion.AsUserInput, cancellation);
        if (accepted.AlreadyDone > 0) Console.WriteLine($"{plan.Sweep.Name}: resuming, {accepted.AlreadyDone} of {accepted.Jobs} job(s) already finished");
        return live ? await FollowLive(sweeps, plan.Sweep.Name, view, cancellation) : await FollowLines(sweeps, plan.Sweep.Name, view, cancellation);
    }

    /// <summary>Writes results.csv, results.json and report.html, prints the teachers, ensembles and best recipe, and returns the exit code.</summary>
    public static int Report(SweepStatus status, string directory)
    {
        SweepResults.Write(status, directory);
        SweepReport.Write(status, directory);
        Console.WriteLine($"{status.Name}: wrote {Path.Combine(directory, "results.csv")}, results.json and {SweepReport.FileName}");
        foreach (var job in status.Jobs.Where(j => j.Kind is JobKind.Teacher or JobKind.SoftTargets && j.State == JobStates.Done))
            Console.WriteLine($"{status.Name}: {SweepResults.Describe(job)}");
        var recipes = SweepResults.Recipes(status);
        if (recipes.Count == 0)
        {
            Console.WriteLine($"{status.Name}: no student trial finished.");
        }
        else
        {
            Console.WriteLine(PointsTable(status, recipes.Take(ShownPoints).ToList()));
            if (recipes.Count > ShownPoints) Console.WriteLine($"... and {recipes.Count - ShownPoints} more point(s) in results.csv");
            Console.WriteLine(SweepResults.BestLine(status, recipes[0]));
        }
        return status.Jobs.Any(j => j.State == JobStates.Failed) ? CommandLineRunner.TrialFailed : CommandLineRunner.Ok;
    }

    const int ShownPoints = 20;

    /// <summary>The sweep's points, best first, as a Markdown table: mean ± std over seeds of the metric and of the test accuracy.</summary>
    static string PointsTable(SweepStatus status, IReadOnlyList<SweepResults.Recipe> recipes)
    {
        var names = recipes.SelectMany(r => r.Parameters.Keys).Distinct().Order(StringComparer.Ordinal).ToList();
        var table = new System.Text.StringBuilder();
        table.AppendLine($"| {string.Join(" | ", names.Append("seeds").Append(status.Metric).Append("test accuracy"))} |");
        table.AppendLine($"|{string.Concat(Enumerable.Repeat("---|", names.Count))}---:|---:|---:|");
        foreach (var r in recipes)
            table.AppendLine($"| {string.Join(" | ", names.Select(n => r.Parameters.GetValueOrDefault(n, "")))} | {r.Runs} | {r.MetricMean:F4} ± {r.MetricStd:F4} | {r.TestMean:P2} ± {r.TestStd:P2} |");
        return table.ToString().TrimEnd();
    }

    /// <summary>Prints each newly finished job and changed counts until the sweep is complete.</summary>
    static async Task<SweepStatus> FollowLines(IActorRef sweeps, string sweep, SweepProgressView view, CancellationToken cancellation)
    {
        string last = "";
        while (true)
        {
            var status = await SweepRegion.Status(sweeps, sweep, cancellation);
            foreach (string line in view.NewlyFinished(status)) Console.WriteLine(line);
            string summary = view.Summary(status);
            string counts = summary[..summary.LastIndexOf(';')]; // without the clock, which changes every second
            if (counts != last) Console.WriteLine($"{sweep}: {summary}");
            last = counts;
            if (status.Complete) return status;
            await Task.Delay(TimeSpan.FromSeconds(1), cancellation);
        }
    }

    static async Task<SweepStatus> FollowLive(IActorRef sweeps, string sweep, SweepProgressView view, CancellationToken cancellation)
    {
        var status = await SweepRegion.Status(sweeps, sweep, cancellation);
        await AnsiConsole.Live(view.Table(status)).StartAsync(async live =>
        {
            while (!status.Complete)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500), cancellation);
                status = await SweepRegion.Status(sweeps, sweep, cancellation);
                live.UpdateTarget(view.Table(status));
            }
        });
        foreach (string line in view.NewlyFinished(status)) Console.WriteLine(line);
        return status;
    }
}
