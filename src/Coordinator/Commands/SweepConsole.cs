using System.Threading.Channels;
using Akka.Actor;
using Orchestrator.Coordinator.Cluster;
using Orchestrator.Coordinator.Planning;
using Orchestrator.Coordinator.Results;
using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.Commands;

/// <summary>A sweep on this machine's console (<c>local</c>): submitting it, following it to the end, and printing its results.</summary>
public static class SweepConsole
{
    /// <summary>
    /// Submits (or resumes) the sweep, its jobs writing under its plan's folder, follows it from its entity's events
    /// until every job has finished, and returns its status with every job.
    /// </summary>
    /// <param name="retryFailed">Run its failed jobs again, their own failures too (a resubmission alone retries only what the machine broke).</param>
    public static async Task<SweepStatus> SubmitAndFollowAsync(ActorSystem system, IActorRef sweeps, SweepPlan plan, string softTargetStore, bool live,
        bool retryFailed, CancellationToken cancellation)
    {
        var accepted = await SweepRegion.Submit(sweeps, plan, softTargetStore, SweepRegion.AsUserInput, cancellation);
        string sweep = accepted.SweepId;
        if (accepted.AlreadyDone > 0) Console.WriteLine($"{plan.Sweep.Name}: resuming, {accepted.AlreadyDone} of {accepted.Jobs} job(s) already finished");
        if (accepted.PriorPoints > 0)
            Console.WriteLine($"{plan.Sweep.Name}: starting from {accepted.PriorPoints} finished point(s) of {string.Join(", ", plan.Sweep.Prior)} (prior)");
        if (retryFailed)
        {
            var reply = await SweepRegion.Retry(sweeps, sweep, allFailed: true, cancellation);
            if (reply is SweepRejected refused) throw new Distillation.UserInputException(refused.Message);
            Console.WriteLine($"{plan.Sweep.Name}: --retry: {((SweepRetryAccepted)reply).Retried} failed job(s) queued again");
        }
        var events = Channel.CreateUnbounded<WatchEvent>(new UnboundedChannelOptions { SingleReader = true });
        var forwarder = SweepEvents.Subscribe(system, sweep, events.Writer);
        try
        {
            // After subscribing: a change from now on is an event after this snapshot (or already in it).
            events.Writer.TryWrite(new WatchEvent { Snapshot = await SweepRegion.Summary(sweeps, sweep, cancellation) });
            await new SweepProgressView().ShowAsync(events.Reader, live, cancellation);
        }
        finally
        {
            system.Stop(forwarder);
        }
        return await SweepRegion.Status(sweeps, sweep, cancellation);
    }

    /// <summary>Writes results.csv, results.json and report.html, prints the teachers, ensembles and best recipe, and returns the exit code.</summary>
    public static async Task<int> ReportAsync(IActorRef sweeps, SweepStatus status, string directory, CancellationToken cancellation)
    {
        await SweepResults.WriteAsync(status, () => SweepRegion.Jobs(sweeps, status.SweepId, cancellation), directory);
        SweepReport.Write(status, directory);
        Console.WriteLine($"{status.Name}: wrote {Path.Combine(directory, "results.csv")}, results.json and {SweepReport.FileName}");
        foreach (var job in status.Jobs.Where(j => j.Kind is JobKind.Teacher or JobKind.SoftTargets && j.State == JobState.Done))
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
            foreach (string line in SweepResults.FrontLines(status, recipes)) Console.WriteLine(line);
            if (ParameterImportance.Of(recipes, status.Maximize).Count > 1) Console.WriteLine(ImportanceTable(status, recipes)); // one parameter: nothing to compare
        }
        return status.Jobs.Any(j => j.State == JobState.Failed) ? CommandLineRunner.TrialFailed : CommandLineRunner.Ok;
    }

    public const int ShownPoints = 20;

    /// <summary>Which parameters mattered (<see cref="ParameterImportance"/>), most first, as a Markdown table; or why there is none yet.</summary>
    public static string ImportanceTable(SweepStatus status, IReadOnlyList<SweepResults.Recipe> recipes)
    {
        var importances = ParameterImportance.Of(recipes, status.Maximize);
        if (importances.Count == 0)
            return $"{status.Name}: parameter importance needs at least {ParameterImportance.MinPoints} finished points with a parameter that varies; it has {recipes.Count} point(s).";
        var table = new System.Text.StringBuilder($"{status.Name}: parameter importance on {status.Metric} (PED-ANOVA, the best {ParameterImportance.TopQuantile:P0} of {recipes.Count} points against all)\n");
        table.AppendLine("| parameter | importance |").AppendLine("|---|---:|");
        foreach (var (parameter, share) in importances) table.AppendLine($"| {parameter} | {share.ToString("P1", System.Globalization.CultureInfo.InvariantCulture)} |");
        return table.ToString().TrimEnd();
    }

    /// <summary>
    /// The sweep's points, best first, as a Markdown table: mean ± std over seeds of the metric and of the test accuracy,
    /// and where the sweep trained baselines, the gain over the student alone and the student alone's test accuracy.
    /// </summary>
    public static string PointsTable(SweepStatus status, IReadOnlyList<SweepResults.Recipe> recipes)
    {
        var names = recipes.SelectMany(r => r.Parameters.Keys).Distinct().Order(StringComparer.Ordinal).ToList();
        bool gains = recipes.Any(r => r.Gain is not null);
        var table = new System.Text.StringBuilder();
        var columns = names.Append("seeds").Append(status.Metric).Append("test accuracy").Concat(gains ? ["gain over alone", "alone: test accuracy"] : []).ToList();
        table.AppendLine($"| {string.Join(" | ", columns)} |");
        table.AppendLine($"|{string.Concat(Enumerable.Repeat("---|", names.Count))}{string.Concat(Enumerable.Repeat("---:|", columns.Count - names.Count))}");
        foreach (var r in recipes)
        {
            var cells = names.Select(n => r.Parameters.GetValueOrDefault(n, ""))
                .Append($"{r.Runs}").Append(SweepResults.FormatMetric(status.Metric, r.MetricMean, r.MetricStd)).Append($"{r.TestMean:P2} ± {r.TestStd:P2}")
                .Concat(!gains ? [] : r.Gain is { } g ? [$"{g}", $"{g.BaselineMean:P2} ± {g.BaselineStd:P2}"] : ["", ""]);
            table.AppendLine($"| {string.Join(" | ", cells)} |");
        }
        return table.ToString().TrimEnd();
    }
}
