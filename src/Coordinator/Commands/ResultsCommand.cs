using System.CommandLine;
using Orchestrator.Coordinator.Results;
using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.Commands;

/// <summary><c>orchestrator results &lt;sweep&gt; [--format table|csv|json|html]</c>: a sweep's jobs and results from a running coordinator.</summary>
public static class ResultsCommand
{
    static readonly string[] Formats = ["table", "csv", "json", "html"];

    public static Command Create()
    {
        var sweep = new Argument<string>("sweep") { Description = "The sweep's name." };
        var format = new Option<string>("--format")
        {
            Description = "table (Markdown), csv or json: the columns of results.csv; html: the sweep's report (curves included), e.g. > report.html.",
            DefaultValueFactory = _ => "table",
        };
        format.AcceptOnlyFromAmong(Formats);
        var importance = new Option<bool>("--importance")
        {
            Description = "Print which parameters mattered instead: PED-ANOVA over the points' mean metric (the best 10 % against all; at least 10 points).",
        };
        var api = new ApiClientFlags();
        var command = new Command("results", "Print a sweep's jobs (finished ones with their metrics) and its best recipe.") { sweep, format, importance };
        api.AddTo(command);
        command.SetAction(async (parse, cancellation) =>
        {
            using var client = api.Connect(parse);
            string id = parse.GetRequiredValue(sweep);
            if (parse.GetRequiredValue(format) == "html")
            {
                Console.Write((await client.Call(options => client.Sweeps.ReportAsync(new ReportRequest { SweepId = id }, options), cancellation)).Html);
                return CommandLineRunner.Ok;
            }
            // The first page gives the columns; the rest are printed as they come, so a large sweep is never held whole.
            var first = await Page(client, id, "", cancellation);
            var table = new ResultsTable(first.ParameterNames, SweepResults.FrontKeys(first.Objectives, first.Front));
            var last = first;
            async IAsyncEnumerable<JobStatus> Jobs()
            {
                for (var page = first; ; page = last = await Page(client, id, page.NextPageToken, cancellation))
                {
                    foreach (var job in page.Jobs) yield return job;
                    if (page.NextPageToken.Length == 0) yield break;
                }
            }
            if (parse.GetValue(importance))
            {
                var students = new SweepStatus { SweepId = id, Name = id, Metric = first.Metric, Maximize = first.Maximize };
                await foreach (var job in Jobs()) if (job.Kind is JobKind.Student or JobKind.Baseline) students.Jobs.Add(job);
                Console.WriteLine(SweepConsole.ImportanceTable(students, SweepResults.Recipes(students)));
                return CommandLineRunner.Ok;
            }
            switch (parse.GetRequiredValue(format))
            {
                case "csv":
                    await table.WriteCsvAsync(Jobs(), Console.Out);
                    break;
                case "json":
                    await using (var stdout = Console.OpenStandardOutput()) await table.WriteJsonAsync(Jobs(), stdout);
                    break;
                default:
                    // Every job, then its points best first (what local prints at the end); the trials are kept for the
                    // second table, the other rows are not.
                    var trials = new SweepStatus { SweepId = id, Name = id, Metric = first.Metric, Maximize = first.Maximize };
                    var columns = table.Columns.Where(k => k is not ("depends_on" or "teachers" or "notes" or "soft_targets_cached")).ToList();
                    Console.WriteLine($"| {string.Join(" | ", columns)} |");
                    Console.WriteLine($"|{string.Concat(columns.Select(_ => "---|"))}");
                    await foreach (var job in Jobs())
                    {
                        var row = table.Row(job);
                        Console.WriteLine($"| {string.Join(" | ", columns.Select(c => Cell(row[c])))} |");
                        if (job.Kind is JobKind.Student or JobKind.Baseline) trials.Jobs.Add(job);
                    }
                    var recipes = SweepResults.Recipes(trials);
                    if (recipes.Count > 0)
                    {
                        Console.WriteLine();
                        Console.WriteLine(SweepConsole.PointsTable(trials, recipes.Take(SweepConsole.ShownPoints).ToList()));
                        if (recipes.Count > SweepConsole.ShownPoints) Console.WriteLine($"... and {recipes.Count - SweepConsole.ShownPoints} more point(s) in --format csv");
                        Console.WriteLine(SweepResults.BestLine(id, last.Metric, recipes[0]));
                    }
                    break;
            }
            return CommandLineRunner.Ok;
        });
        return command;
    }

    /// <summary>The page of results after <paramref name="pageToken"/> (the first when empty).</summary>
    static Task<ResultsPage> Page(ApiClient client, string sweep, string pageToken, CancellationToken cancellation) =>
        client.Call(options => client.Sweeps.ResultsAsync(new ResultsRequest { SweepId = sweep, PageSize = 1000, PageToken = pageToken }, options), cancellation);

    static string Cell(object? value) => value switch
    {
        null => "",
        double d => d.ToString("0.####", System.Globalization.CultureInfo.InvariantCulture),
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "",
    };
}
