using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Orchestrator.Tests;
using Shouldly;

namespace Orchestrator.Coordinator.Tests;

/// <summary>
/// A real Prometheus scraping a coordinator and a GPU node of their own (so every counter belongs to this test's
/// sweeps): the documented metrics, their labels and values, every dashboard query and the alert rules.
/// </summary>
public sealed partial class PrometheusTests(CoordinatorFixture coordinator) : IClassFixture<CoordinatorFixture>, IAsyncLifetime
{
    readonly HttpClient http = new();
    readonly string root = TestData.RepositoryRoot(), directory = TestData.TemporaryDirectory();
    System.Diagnostics.Process? server;
    string prometheus = "";

    static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        string rules = Path.Combine(root, "deploy", "prometheus", "alerts.yml"), config = Path.Combine(directory, "prometheus.yml");
        await File.WriteAllTextAsync(config, $$"""
            global: { scrape_interval: 1s, evaluation_interval: 1s }
            rule_files: [ "{{rules}}" ]
            scrape_configs:
              - job_name: orchestrator-coordinator
                static_configs: [ { targets: [ "{{new Uri(coordinator.MetricsUrl).Authority}}" ] } ]
              - job_name: orchestrator-gpunode
                static_configs: [ { targets: [ "{{new Uri(coordinator.NodeMetricsUrl).Authority}}" ] } ]
            """, Cancellation);
        foreach (var check in new[] { new[] { "check", "config", config }, ["check", "rules", rules] })
        {
            using var promtool = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("promtool", check) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            await promtool.WaitForExitAsync(Cancellation);
            promtool.ExitCode.ShouldBe(0, await promtool.StandardError.ReadToEndAsync(Cancellation));
        }
        int port = Loopback.FreePort();
        prometheus = $"http://127.0.0.1:{port}";
        server = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("prometheus", ["--config.file", config,
            "--storage.tsdb.path", Path.Combine(directory, "data"), "--web.listen-address", $"127.0.0.1:{port}"]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        server.BeginOutputReadLine();
        server.BeginErrorReadLine();
    }

    public ValueTask DisposeAsync()
    {
        server?.Kill();
        server?.Dispose();
        http.Dispose();
        return ValueTask.CompletedTask;
    }

    static string Sweep(string name, string teacher) => $"""
        name: {name}
        dataset: {"{"} name: synthetic, validation: 200 {"}"}
        teacher: {"{"} {teacher} {"}"}
        soft_targets: {"{"} shards: 2 {"}"}
        student: {"{"} model: mlp-16, epochs: 2, loss: {"{"} terms: [ce, hinton], alpha: 0.5 {"}"} {"}"}
        parameters:
          alpha: {"{"} values: [0.25, 0.75] {"}"}
        seeds: [1, 2]
        """;

    Task<(int ExitCode, string Output, string Error)> Cli(params string[] args) =>
        OrchestratorProcess.RunAsync([.. args, "--endpoint", coordinator.Endpoint, "--token-file", coordinator.TokenFile]);

    /// <summary>Prometheus's HTTP API: the result vector of an instant query (failing the test on a query that does not parse).</summary>
    async Task<JsonElement> Query(string expression)
    {
        string json = await http.GetStringAsync($"{prometheus}/api/v1/query?query={Uri.EscapeDataString(expression)}", Cancellation);
        var result = JsonDocument.Parse(json).RootElement;
        result.GetProperty("status").GetString().ShouldBe("success", $"{expression}: {json}");
        return result.GetProperty("data").GetProperty("result");
    }

    static double Sum(JsonElement result) =>
        result.EnumerateArray().Sum(r => double.Parse(r.GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture));

    /// <summary>Waits until <paramref name="expression"/> sums to at least <paramref name="target"/>, then returns the sum.</summary>
    async Task<double> WaitFor(string expression, double target)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (true)
        {
            try
            {
                double sum = Sum(await Query(expression));
                if (sum >= target) return sum;
            }
            catch (HttpRequestException) { } // not listening yet
            DateTime.UtcNow.ShouldBeLessThan(deadline, $"waiting for {expression} >= {target}\n{coordinator.Coordinator.Output}");
            await Task.Delay(500, Cancellation);
        }
    }

    /// <summary>A row of the metric tables in docs/metrics.md: | `name` | type | `label`, `label` | what |</summary>
    [GeneratedRegex(@"^\| `(?<name>orchestrator_\w+)` \|(?<type>[^|]+)\|(?<labels>[^|]*)\|(?<what>.*)\|$", RegexOptions.Multiline)]
    private static partial Regex DocumentedMetric();

    [Fact]
    public async Task Prometheus_scrapes_coordinator_and_node_with_every_documented_metric_dashboard_query_and_alert_rule()
    {
        await WaitFor("sum(up)", 2); // both targets scraped

        var (code, _, error) = await Cli("submit", TestData.WriteFile("prom-short.yaml", Sweep("prom-short", "model: mlp-64, epochs: 2")), "--watch");
        code.ShouldBe(0, error);
        // The counters equal this coordinator's only short sweep: 4 students, their 2 baselines, 1 teacher, 1 aggregation over 2 shards.
        foreach (var (expression, expected) in new[]
                 {
                     ("sum(orchestrator_jobs_finished_total{kind=\"student\",state=\"done\"})", 4.0), ("sum(orchestrator_jobs_finished_total{kind=\"teacher\",state=\"done\"})", 1),
                     ("sum(orchestrator_jobs_finished_total{kind=\"soft-targets\",state=\"done\"})", 1), ("sum(orchestrator_jobs_finished_total{kind=\"soft-target-shard\",state=\"done\"})", 2),
                     ("sum(orchestrator_job_duration_seconds_count{kind=\"student\"})", 4), ("sum(orchestrator_jobs{kind=\"student\",state=\"done\"})", 4),
                     ("sum(orchestrator_sweeps{state=\"complete\"})", 1), ("sum(orchestrator_scheduler_dispatch_latency_seconds_count)", 10),
                     ("sum(orchestrator_jobs_finished_total{kind=\"baseline\",state=\"done\"})", 2),
                     ("sum(orchestrator_model_latency_seconds_count{kind=\"student\",batch=\"256\"})", 4), ("sum(orchestrator_model_size_bytes_count{kind=\"teacher\"})", 1),
                     ("sum(orchestrator_grpc_server_duration_seconds_count{service=\"orchestrator.v1.Sweeps\",method=\"Submit\",code=\"OK\"})", 1),
                 })
            (await WaitFor(expression, expected)).ShouldBe(expected, expression);
        await WaitFor("sum(orchestrator_journal_write_latency_seconds_count)", 1 + 10 + 10); // submitted, then started and completed for each job
        await WaitFor("sum(orchestrator_metric_points_total)", (4 + 2) * 2); // every student and baseline epoch, from the node's stream
        (await Query("orchestrator_journal_write_latency_seconds_bucket{le=\"0.001\"}")).GetArrayLength().ShouldBe(1); // buckets fit seconds, not milliseconds
        Sum(await Query("orchestrator_sweep_best{sweep=\"prom-short\",metric=\"val_accuracy\"}")).ShouldBeInRange(0.01, 1.0);

        // A second sweep whose teacher trains long enough to look at the node while it runs (alone: no baselines beside it).
        (code, _, error) = await Cli("submit", TestData.WriteFile("prom-long.yaml", Sweep("prom-long", "model: mlp-1200-1200, epochs: 500") + "\nbaseline: false"));
        code.ShouldBe(0, error);
        try
        {
            await WaitFor("max(orchestrator_node_slot_epoch)", 2);
            Sum(await Query("orchestrator_node_slot_busy")).ShouldBe(1);
            Sum(await Query("orchestrator_slots")).ShouldBe(2);
            (await WaitFor("sum(orchestrator_slots{state=\"busy\"})", 1)).ShouldBe(1); // the scheduler publishes its load every second
            Sum(await Query("orchestrator_cluster_members{role=\"gpu\",status=\"up\"}")).ShouldBe(1);
            Sum(await Query("orchestrator_node_slot_samples_per_second")).ShouldBeGreaterThan(0);
            Sum(await Query("orchestrator_node_slot_validation_accuracy")).ShouldBeInRange(0.0, 1.0);
            Sum(await Query("orchestrator_node_slot_loss{term=\"ce\"}")).ShouldBeGreaterThan(0);
            (await Query("orchestrator_node_slot_step_duration_seconds > 0 < on (slot, device) orchestrator_node_slot_epoch_duration_seconds"))
                .GetArrayLength().ShouldBe(1);
            (await Query("dotnet_gc_collections_total")).EnumerateArray().Select(r => r.GetProperty("metric").GetProperty("job").GetString()).Distinct()
                .ShouldBe(["orchestrator-coordinator", "orchestrator-gpunode"], ignoreOrder: true);

            await EveryDocumentedMetricHasItsLabels();
            await NoSeriesButTheBestCarriesASweepName("prom-short");
            await EveryDashboardQueryReturnsData();
        }
        finally
        {
            await Cli("cancel", "prom-long");
        }

        string rules = await http.GetStringAsync($"{prometheus}/api/v1/rules", Cancellation);
        rules.ShouldContain("OrchestratorCoordinatorDown");
        rules.ShouldContain("OrchestratorGpuNodeDown");
        rules.ShouldContain("\"health\":\"ok\"");
        rules.ShouldNotContain("\"health\":\"err\"");
    }

    /// <summary>Each metric of docs/metrics.md's tables has samples, and each sample has exactly the documented labels (besides job, instance and the OpenTelemetry scope).</summary>
    async Task EveryDocumentedMetricHasItsLabels()
    {
        var rows = DocumentedMetric().Matches(await File.ReadAllTextAsync(Path.Combine(root, "docs", "metrics.md"), Cancellation));
        rows.Count.ShouldBe(24);
        foreach (Match row in rows)
        {
            if (row.Groups["what"].Value.Contains("only where CUDA is present")) continue; // this machine has none
            string name = row.Groups["name"].Value + (row.Groups["type"].Value.Trim() == "histogram" ? "_count" : "");
            var documented = row.Groups["labels"].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim('`')).Order().ToList();
            var series = (await Query(name)).EnumerateArray().ToList();
            series.ShouldNotBeEmpty($"{name} has no samples");
            foreach (var sample in series)
                sample.GetProperty("metric").EnumerateObject().Select(l => l.Name)
                    .Where(l => l is not ("__name__" or "job" or "instance") && !l.StartsWith("otel_scope_", StringComparison.Ordinal))
                    .Order().ToList().ShouldBe(documented, $"{name}: {sample}");
        }
    }

    /// <summary>Sweeps are few, trials are not: a sweep's name is a label value of the per-sweep best metric only.</summary>
    async Task NoSeriesButTheBestCarriesASweepName(string sweep)
    {
        string json = await http.GetStringAsync($"{prometheus}/api/v1/series?match[]={Uri.EscapeDataString("{__name__=~\"orchestrator_.+\"}")}", Cancellation);
        var series = JsonDocument.Parse(json).RootElement.GetProperty("data").EnumerateArray().ToList();
        series.ShouldContain(s => s.GetProperty("__name__").GetString() == "orchestrator_sweep_best");
        series.Where(s => s.EnumerateObject().Any(l => l.Value.GetString()!.Contains(sweep)))
            .ShouldAllBe(s => s.GetProperty("__name__").GetString() == "orchestrator_sweep_best");
    }

    /// <summary>Every panel's PromQL parses and returns data, but the panels that need CUDA (which their descriptions say).</summary>
    async Task EveryDashboardQueryReturnsData()
    {
        // A rate needs two samples in its window: both targets scraped at least three times in the last 30 s.
        await WaitFor("count(count_over_time(up[30s]) >= 3)", 2);
        foreach (string file in Directory.GetFiles(Path.Combine(root, "deploy", "grafana", "dashboards"), "*.json"))
        {
            using var dashboard = JsonDocument.Parse(await File.ReadAllTextAsync(file, Cancellation));
            foreach (var panel in dashboard.RootElement.GetProperty("panels").EnumerateArray())
            {
                bool needsCuda = panel.TryGetProperty("description", out var description) && description.GetString()!.Contains("Only where CUDA is present");
                foreach (var target in panel.GetProperty("targets").EnumerateArray())
                {
                    string expression = target.GetProperty("expr").GetString()!;
                    var result = await Query(expression);
                    if (!needsCuda)
                        result.GetArrayLength().ShouldBeGreaterThan(0, $"{Path.GetFileName(file)}, panel '{panel.GetProperty("title").GetString()}': {expression} returned no data");
                }
            }
        }
    }
}
