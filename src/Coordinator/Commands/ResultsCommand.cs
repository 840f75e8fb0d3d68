using System.CommandLine;
using Orchestrator.Coordinator.Sweeps;
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
        var api = new ApiClientFlags();
        var command = new Command("results", "Print a sweep's jobs (finished ones with their metrics) and its best recipe.") { sweep, format };
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
            var jobs = new List<JobStatus>();
            ResultsPage page;
            string pageToken = "";
            do
            {
                var request = new ResultsRequest { SweepId = id, PageSize = 500, PageToken = pageToken };
                page = await client.Call(options => client.Sweeps.ResultsAsync(request, options), cancellation);
                jobs.AddRange(page.Jobs);
                pageToken = page.NextPageToken;
            } while (pageToken.Length > 0);

            var rows = SweepResults.Rows(jobs);
            switch (parse.GetRequiredValue(format))
            {
                case "csv": Console.Write(SweepResults.ToCsv(rows)); break;
                case "json": Console.Write(SweepResults.ToJson(rows)); break;
                default:
                    var columns = rows.Count == 0 ? [] : rows[0].Keys.Where(k => k is not ("depends_on" or "teachers" or "notes" or "soft_targets_cached")).ToList();
                    Console.WriteLine($"| {string.Join(" | ", columns)} |");
                    Console.WriteLine($"|{string.Concat(columns.Select(_ => "---|"))}");
                    foreach (var row in rows) Console.WriteLine($"| {string.Join(" | ", columns.Select(c => Cell(row[c])))} |");
                    if (page.Best is { } best)
                        Console.WriteLine(SweepResults.BestLine(id, page.Metric, SweepResults.Recipe.FromProto(best)));
                    break;
            }
            return CommandLineRunner.Ok;
        });
        return command;
    }

    static string Cell(object? value) => value switch
    {
        null => "",
        double d => d.ToString("0.####", System.Globalization.CultureInfo.InvariantCulture),
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "",
    };
}
