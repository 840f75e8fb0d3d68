using Google.Protobuf;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Grpc.Reflection.V1Alpha;
using Orchestrator.Coordinator.Commands;
using Orchestrator.Protocol.V1;
using Orchestrator.Tests;
using Shouldly;

namespace Orchestrator.Coordinator.Tests;

/// <summary>A real coordinator process (Kestrel on a loopback port, bearer token) and a GPU node, shared by the API tests.</summary>
public sealed class CoordinatorFixture : IAsyncLifetime
{
    public const string Token = "test-token-4711";
    public string Directory { get; } = TestData.TemporaryDirectory();
    public string TokenFile { get; private set; } = "";
    public string Endpoint { get; private set; } = "";
    public string MetricsUrl { get; private set; } = "";
    public string NodeMetricsUrl { get; private set; } = "";
    /// <summary>The live sweep pages (serve --http-port).</summary>
    public string PagesUrl { get; private set; } = "";
    public RunningProcess Coordinator { get; private set; } = null!;
    public RunningProcess Node { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        TokenFile = Path.Combine(Directory, "token");
        await File.WriteAllTextAsync(TokenFile, Token + "\n");
        int port = Loopback.FreePort(), grpcPort = Loopback.FreePort(), metricsPort = Loopback.FreePort(), nodeMetricsPort = Loopback.FreePort(), httpPort = Loopback.FreePort();
        PagesUrl = $"http://127.0.0.1:{httpPort}";
        NodeMetricsUrl = $"http://localhost:{nodeMetricsPort}/metrics"; // served at the node's --hostname, 127.0.0.1, which localhost reaches
        Endpoint = $"http://127.0.0.1:{grpcPort}";
        MetricsUrl = $"http://127.0.0.1:{metricsPort}/metrics";
        Coordinator = RunningProcess.Start("serve", "--port", port.ToString(), "--grpc-port", grpcPort.ToString(), "--out", Path.Combine(Directory, "out"),
            "--soft-targets", Path.Combine(Directory, "store"), "--token-file", TokenFile, "--metrics-port", metricsPort.ToString(), "--http-port", httpPort.ToString());
        // The node sends its metrics over the Metrics stream (not the cluster), with the token.
        Node = RunningProcess.Start("gpunode", "--seed-nodes", $"akka.tcp://orchestrator@127.0.0.1:{port}", "--devices", "cpu", "--slots-per-device", "2",
            "--api", Endpoint, "--token-file", TokenFile, "--metrics-port", nodeMetricsPort.ToString());
        await Coordinator.WaitForOutput("gRPC API on port", TimeSpan.FromMinutes(1));
    }

    public Protocol.V1.Sweeps.SweepsClient Client(GrpcChannel channel) => new(channel);

    public static Metadata Authorized => [new Metadata.Entry("authorization", $"Bearer {Token}")];

    public ValueTask DisposeAsync()
    {
        Node.Dispose();
        Coordinator.Dispose();
        return ValueTask.CompletedTask;
    }
}

public class SweepApiTests(CoordinatorFixture coordinator) : IClassFixture<CoordinatorFixture>
{
    static string Sweep(string name, int epochs = 2) => $"""
        name: {name}
        dataset: {"{"} name: synthetic, validation: 200 {"}"}
        teacher: {"{"} model: mlp-64, epochs: {epochs} {"}"}
        soft_targets: {"{"} shards: 2 {"}"}
        student: {"{"} model: mlp-16, epochs: {epochs}, loss: {"{"} terms: [ce, hinton], alpha: 0.5 {"}"} {"}"}
        parameters:
          alpha: {"{"} values: [0.25, 0.75] {"}"}
        seeds: [1, 2]
        """;

    Task<(int ExitCode, string Output, string Error)> Cli(params string[] args) =>
        OrchestratorProcess.RunAsync([.. args, "--endpoint", coordinator.Endpoint, "--token-file", coordinator.TokenFile]);

    [Fact]
    public async Task Submit_watch_status_and_results_from_the_cli_end_to_end()
    {
        string file = TestData.WriteFile("api-e2e.yaml", Sweep("api-e2e"));
        var (code, output, error) = await Cli("submit", file, "--watch");
        code.ShouldBe(0, error + coordinator.Coordinator.Output);
        output.ShouldContain("api-e2e: submitted, 10 job(s) (1 teacher(s), 3 soft-target job(s), 4 student trial(s), 2 baseline(s))");
        output.ShouldContain("api-e2e: complete; 10 done, 0 failed, 0 running, 0 queued of 10");
        output.ShouldContain("api-e2e: best recipe on val_accuracy (mean over 2 seed(s)): alpha=");

        (code, output, error) = await Cli("status");
        code.ShouldBe(0, error);
        output.ShouldContain("| api-e2e | complete | 10 | 0 | 0 | 10 | 0 | 0 | 0 | val_accuracy");

        (code, output, error) = await Cli("results", "api-e2e", "--format", "csv");
        code.ShouldBe(0, error);
        var lines = output.TrimEnd().Split('\n');
        lines.Length.ShouldBe(1 + 10);
        lines.Skip(1).ShouldAllBe(line => line.Split(',')[2] == "done");
        var header = lines[0].Split(',').ToList();
        var students = lines.Skip(1).Select(l => l.Split(',')).Where(cells => cells[1] == "student").ToList();
        students.Count.ShouldBe(4);
        students.ShouldAllBe(cells => cells[header.IndexOf("baseline")].StartsWith("baseline-") && double.Parse(cells[header.IndexOf("gain")], System.Globalization.CultureInfo.InvariantCulture) > -1);
        // The coordinator writes the same table to results.csv when the sweep completes.
        string written = Path.Combine(coordinator.Directory, "out", "api-e2e", "results.csv");
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!File.Exists(written) && DateTime.UtcNow < deadline) await Task.Delay(100, TestContext.Current.CancellationToken);
        (await File.ReadAllTextAsync(written, TestContext.Current.CancellationToken)).ShouldBe(output);
        // ... and report.html, with the learning curves drawn from the metrics.jsonl the node wrote.
        string report = await File.ReadAllTextAsync(Path.Combine(coordinator.Directory, "out", "api-e2e", "report.html"), TestContext.Current.CancellationToken);
        report.ShouldContain("<h2>Best recipe</h2>");
        report.ShouldContain("<h2>Learning curves</h2>");
        (code, output, error) = await Cli("results", "api-e2e", "--format", "html"); // the same report, from anywhere the API reaches
        code.ShouldBe(0, error);
        output.ShouldContain("<h2>Learning curves</h2>");
        int Curves(string html) => System.Text.RegularExpressions.Regex.Count(html, "<polyline");
        Curves(output).ShouldBe(Curves(report));
        // Validation accuracy, validation loss and training loss: the teacher, four students, the best point's two baselines;
        // the best point's two loss terms (ce, hinton); the best by slot-hours, unless the first student was already the best.
        Curves(report).ShouldBe(3 * (1 + 4 + 2) + 2 + (report.Contains("by slot-hours</h2>") ? 1 : 0));
        report.ShouldContain("<pre id=\"settings\">name: api-e2e"); // the sweep's file, at the top

        (code, output, error) = await Cli("results", "api-e2e"); // the table: every job, then the points best first
        code.ShouldBe(0, error);
        output.ShouldContain("| alpha | seeds | val_accuracy | test accuracy | gain over alone | alone: test accuracy |");
        output.ShouldContain("api-e2e: best recipe on val_accuracy (mean over 2 seed(s)): alpha=");

        (code, output, _) = await Cli("submit", file);
        code.ShouldBe(0);
        output.ShouldContain("10 already finished"); // idempotent: nothing runs twice
    }

    [Fact]
    public async Task Without_the_token_every_call_is_unauthenticated_and_changes_nothing()
    {
        using var channel = GrpcChannel.ForAddress(coordinator.Endpoint);
        var client = coordinator.Client(channel);
        var request = new SubmitRequest { FileName = "unauthorised.yaml", Content = ByteString.CopyFromUtf8(Sweep("api-unauthorised")) };
        var refused = await Should.ThrowAsync<RpcException>(async () => await client.SubmitAsync(request, cancellationToken: TestContext.Current.CancellationToken));
        refused.StatusCode.ShouldBe(StatusCode.Unauthenticated);
        var wrong = await Should.ThrowAsync<RpcException>(async () =>
            await client.ListAsync(new ListRequest(), [new Metadata.Entry("authorization", "Bearer not-it")], cancellationToken: TestContext.Current.CancellationToken));
        wrong.StatusCode.ShouldBe(StatusCode.Unauthenticated);

        var sweeps = await client.ListAsync(new ListRequest(), CoordinatorFixture.Authorized, cancellationToken: TestContext.Current.CancellationToken);
        sweeps.Sweeps.ShouldNotContain(s => s.SweepId == "api-unauthorised");
        System.IO.Directory.Exists(Path.Combine(coordinator.Directory, "out", "api-unauthorised")).ShouldBeFalse();

        var (code, _, error) = await OrchestratorProcess.RunAsync("status", "--endpoint", coordinator.Endpoint);
        code.ShouldBe(2);
        error.ShouldContain("this coordinator needs a token");
    }

    [Fact]
    public async Task A_request_over_the_size_limit_is_refused_before_it_does_anything()
    {
        using var channel = GrpcChannel.ForAddress(coordinator.Endpoint);
        var huge = new SubmitRequest { FileName = "huge.yaml", Content = ByteString.CopyFromUtf8(Sweep("api-huge") + "\n# " + new string('x', 5 * 1024 * 1024) + "\n") };
        var refused = await Should.ThrowAsync<RpcException>(async () =>
            await coordinator.Client(channel).SubmitAsync(huge, CoordinatorFixture.Authorized, cancellationToken: TestContext.Current.CancellationToken));
        refused.StatusCode.ShouldBe(StatusCode.ResourceExhausted);
        var sweeps = await coordinator.Client(channel).ListAsync(new ListRequest(), CoordinatorFixture.Authorized, cancellationToken: TestContext.Current.CancellationToken);
        sweeps.Sweeps.ShouldNotContain(s => s.SweepId == "api-huge");
    }

    [Fact]
    public async Task Bad_sweeps_unknown_names_and_changed_sweeps_get_clear_errors()
    {
        var (code, _, error) = await Cli("submit", TestData.WriteFile("api-bad.yaml", Sweep("api-bad").Replace("values: [0.25, 0.75]", "values: [0.25, 1.75]")));
        code.ShouldBe(2);
        error.ShouldContain("api-bad.yaml:7:27: loss.alpha: alpha = 1.75 is outside [0, 1]");

        (code, _, error) = await Cli("results", "api-nonexistent");
        code.ShouldBe(2);
        error.ShouldContain("no sweep 'api-nonexistent'");

        (code, _, error) = await Cli("submit", TestData.WriteFile("api-changed.yaml", Sweep("api-changed", epochs: 1)));
        code.ShouldBe(0, error);
        (code, _, error) = await Cli("submit", TestData.WriteFile("api-changed.yaml", Sweep("api-changed", epochs: 3)));
        code.ShouldBe(2);
        error.ShouldContain("was submitted before with other trials");
        error.ShouldContain("orchestrator fork");
        // Which fork writes from the file the coordinator keeps: the changed sweep, under a new name.
        string forked = Path.Combine(TestData.TemporaryDirectory(), "api-changed-3.yaml");
        (code, _, error) = await Cli("fork", "api-changed", "--set", "student.epochs=3", "--name", "api-changed-3", "--output", forked);
        code.ShouldBe(0, error);
        var fork = Planning.SweepFile.Load(forked);
        fork.Name.ShouldBe("api-changed-3");
        fork.Student.Children[new YamlDotNet.RepresentationModel.YamlScalarNode("epochs")].ToString().ShouldBe("3");

        string bayes = """
            name: api-prior
            dataset: { name: synthetic, validation: 200 }
            student: { model: mlp-16, epochs: 1 }
            method: bayes
            run_cap: 2
            prior: [api-nonexistent]
            parameters:
              lr: { min: 0.001, max: 0.1, distribution: log_uniform_values }
            """;
        (code, _, error) = await Cli("submit", TestData.WriteFile("api-prior.yaml", bayes));
        code.ShouldBe(2);
        error.ShouldContain("prior: no sweep 'api-nonexistent' on this coordinator");

        (code, _, error) = await OrchestratorProcess.RunAsync("status", "--endpoint", $"http://127.0.0.1:{Loopback.FreePort()}");
        code.ShouldBe(3);
        error.ShouldContain("cannot reach the coordinator");
    }

    [Fact]
    public async Task Hostile_submissions_are_invalid_arguments_that_write_nothing_and_the_coordinator_still_answers()
    {
        using var channel = GrpcChannel.ForAddress(coordinator.Endpoint);
        var client = coordinator.Client(channel);
        var bomb = new System.Text.StringBuilder("a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
        for (int i = 1; i < 10; i++) bomb.Append($"a{i}: &a{i} [{string.Join(", ", Enumerable.Repeat($"*a{i - 1}", 9))}]\n");
        (string Name, string Content, string Message)[] hostile =
        [
            ("api-deep", Sweep("api-deep") + "\nx: " + new string('[', 25_000) + new string(']', 25_000) + "\n", "levels deep"), // took the process down
            ("api-bomb", Sweep("api-bomb") + "\n" + bomb, "expands to more than"), // grew it to 15 GB
            ("api-newline", Sweep("api-newline").Replace("name: api-newline", "name: \"api-newline\\n\""), "name: 'api-newline"),
        ];
        foreach (var (name, content, message) in hostile)
        {
            var refused = await Should.ThrowAsync<RpcException>(async () => await client.SubmitAsync(new SubmitRequest { FileName = $"{name}.yaml", Content = ByteString.CopyFromUtf8(content) },
                CoordinatorFixture.Authorized, cancellationToken: TestContext.Current.CancellationToken));
            refused.StatusCode.ShouldBe(StatusCode.InvalidArgument, name);
            refused.Status.Detail.ShouldContain(message);
            System.IO.Directory.Exists(Path.Combine(coordinator.Directory, "out", name)).ShouldBeFalse();
        }
        // Bytes that are not UTF-8: a file saved in Latin-1.
        byte[] latin1 = System.Text.Encoding.UTF8.GetBytes("# caf@\n" + Sweep("api-latin1"));
        latin1[Array.IndexOf(latin1, (byte)'@')] = 0xE9;
        var notUtf8 = await Should.ThrowAsync<RpcException>(async () => await client.SubmitAsync(new SubmitRequest { FileName = "api-latin1.yaml", Content = ByteString.CopyFrom(latin1) },
            CoordinatorFixture.Authorized, cancellationToken: TestContext.Current.CancellationToken));
        notUtf8.StatusCode.ShouldBe(StatusCode.InvalidArgument);
        notUtf8.Status.Detail.ShouldContain("api-latin1.yaml:1:6: not UTF-8 text (byte 0xE9)");
        System.IO.Directory.Exists(Path.Combine(coordinator.Directory, "out", "api-latin1")).ShouldBeFalse();

        var sweeps = await client.ListAsync(new ListRequest(), CoordinatorFixture.Authorized, cancellationToken: TestContext.Current.CancellationToken);
        sweeps.Sweeps.ShouldNotContain(s => s.SweepId.StartsWith("api-deep") || s.SweepId.StartsWith("api-bomb") || s.SweepId.StartsWith("api-newline") || s.SweepId.StartsWith("api-latin1"));
    }

    [Fact]
    public async Task Health_is_serving_and_reflection_lists_the_services_without_a_token()
    {
        using var channel = GrpcChannel.ForAddress(coordinator.Endpoint);
        var health = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest(), cancellationToken: TestContext.Current.CancellationToken);
        health.Status.ShouldBe(HealthCheckResponse.Types.ServingStatus.Serving);

        using var reflection = new ServerReflection.ServerReflectionClient(channel).ServerReflectionInfo(cancellationToken: TestContext.Current.CancellationToken);
        await reflection.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" }, TestContext.Current.CancellationToken);
        await reflection.RequestStream.CompleteAsync();
        (await reflection.ResponseStream.MoveNext(TestContext.Current.CancellationToken)).ShouldBeTrue();
        reflection.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ShouldContain("orchestrator.v1.Sweeps");
    }

    [Fact]
    public async Task Retry_runs_again_only_what_the_machine_broke_unless_told_every_failure_and_writes_the_results_again()
    {
        string file = TestData.WriteFile("api-retry.yaml", """
            name: api-retry
            dataset: { name: synthetic, validation: 200 }
            student: { model: mlp-16, epochs: 2, optimizer: { name: sgd, lr: 1e30 } }
            seeds: [1, 2]
            """);
        var (code, output, error) = await Cli("submit", file, "--watch");
        (code, output).ShouldBe((CommandLineRunner.TrialFailed, output), error); // the loss diverges: the trials' own failure
        output.ShouldContain("api-retry: complete; 0 done, 2 failed");
        string results = Path.Combine(coordinator.Directory, "out", "api-retry", "results.csv");
        async Task ResultsWritten()
        {
            var deadline = DateTime.UtcNow.AddMinutes(1);
            while (!File.Exists(results))
            {
                DateTime.UtcNow.ShouldBeLessThan(deadline, "no results.csv\n" + coordinator.Coordinator.Output);
                await Task.Delay(100, TestContext.Current.CancellationToken);
            }
        }
        await ResultsWritten();
        File.Delete(results);

        (code, output, error) = await Cli("retry", "api-retry");
        (code, output.Trim()).ShouldBe((0, "api-retry: no machine-caused failure to retry (--failed retries the trials' own failures too)."), error);
        (code, output, error) = await Cli("retry", "api-retry", "--failed");
        (code, output.Trim()).ShouldBe((0, "api-retry: 2 failed job(s) queued again; its results are written again when it completes."), error);
        (code, output, error) = await Cli("watch", "api-retry");
        code.ShouldBe(CommandLineRunner.TrialFailed, error); // it fails the same: nothing it reads changed
        output.ShouldContain("api-retry: complete; 0 done, 2 failed");
        await ResultsWritten();
        (code, _, error) = await Cli("retry", "api-nonexistent");
        (code, error.Contains("no sweep 'api-nonexistent'")).ShouldBe((2, true), error);
    }

    [Fact]
    public async Task Cancel_stops_a_running_sweep_and_submitting_it_again_resumes_it()
    {
        string file = TestData.WriteFile("api-cancel.yaml", Sweep("api-cancel").Replace("model: mlp-64, epochs: 2", "model: mlp-1200-1200, epochs: 500") + "\nbaseline: false");
        var (code, _, error) = await Cli("submit", file);
        code.ShouldBe(0, error);
        using var channel = GrpcChannel.ForAddress(coordinator.Endpoint);
        var client = coordinator.Client(channel);
        async Task<SweepStatus> Get() => await client.GetAsync(new GetRequest { SweepId = "api-cancel" }, CoordinatorFixture.Authorized,
            cancellationToken: TestContext.Current.CancellationToken);
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (!(await Get()).Jobs.Any(j => j is { Kind: JobKind.Teacher, State: JobState.Running, Latest.Epoch: >= 2 })) // the teacher runs, and its node's metric stream reached the status
        {
            DateTime.UtcNow.ShouldBeLessThan(deadline, coordinator.Coordinator.Output + coordinator.Node.Output);
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        // While the teacher trains, the node's own /metrics shows its slot busy and the trial's last epoch (labelled by slot, not trial).
        using (var http = new HttpClient())
        {
            string node = await http.GetStringAsync(coordinator.NodeMetricsUrl, TestContext.Current.CancellationToken);
            var lines = node.Split('\n');
            lines.ShouldContain(l => l.StartsWith("orchestrator_node_slot_busy{") && l.EndsWith(" 1"));
            lines.ShouldContain(l => l.StartsWith("orchestrator_node_slot_samples_per_second{") && l.Contains("slot=\""));
            lines.ShouldContain(l => l.StartsWith("orchestrator_node_slot_loss{") && l.Contains("term=\"ce\""));
            lines.ShouldContain(l => l.StartsWith("orchestrator_node_slot_epoch_duration_seconds{"));
            lines.ShouldContain(l => l.StartsWith("dotnet_process_memory_working_set_bytes"));
            node.ShouldNotContain("teacher-"); // no trial id as a label
        }

        string output;
        (code, output, error) = await Cli("cancel", "api-cancel", "--reason", "test over");
        code.ShouldBe(0, error + coordinator.Coordinator.Output);
        output.ShouldContain("api-cancel: cancelled 8 unfinished job(s)");
        var cancelled = await Get();
        (cancelled.Cancelled, cancelled.CancelReason, cancelled.Complete).ShouldBe((true, "test over", true));
        cancelled.Jobs.ShouldAllBe(j => j.State == JobState.Cancelled);
        await coordinator.Node.WaitForOutput("cancelling teacher-", TimeSpan.FromSeconds(30)); // the node stopped the running teacher, within a batch
        (code, output, _) = await Cli("status");
        output.ShouldContain("| api-cancel | cancelled | 8 | 0 | 0 | 0 | 0 | 8 | 0 |");

        (code, output, error) = await Cli("submit", file); // resumes: the teacher is queued (or running) again
        code.ShouldBe(0, error);
        (await Get()).Jobs.ShouldContain(j => j.State == JobState.Queued || j.State == JobState.Running);
        (code, _, error) = await Cli("cancel", "api-cancel"); // leave the node free for the other tests
        code.ShouldBe(0, error);
    }

    /// <summary>Reads a sweep's Watch stream after <paramref name="after"/> until <paramref name="stop"/> says so, or for at most <paramref name="limit"/> events (then disconnects).</summary>
    static async Task<List<WatchEvent>> ReadWatch(Protocol.V1.Sweeps.SweepsClient client, string sweep, long after, Func<WatchEvent, bool> stop, int limit = int.MaxValue)
    {
        var events = new List<WatchEvent>();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        using var call = client.Watch(new WatchRequest { SweepId = sweep, AfterCursor = after }, CoordinatorFixture.Authorized, cancellationToken: timeout.Token);
        while (events.Count < limit && await call.ResponseStream.MoveNext(timeout.Token))
        {
            events.Add(call.ResponseStream.Current);
            if (stop(call.ResponseStream.Current)) break;
        }
        return events; // disposing the call cancels it: a forced disconnect
    }

    [Fact]
    public async Task A_watcher_that_reconnects_with_its_last_cursor_misses_nothing_and_sees_nothing_twice()
    {
        using var channel = GrpcChannel.ForAddress(coordinator.Endpoint);
        var client = coordinator.Client(channel);
        await client.SubmitAsync(new SubmitRequest { FileName = "api-watch.yaml", Content = ByteString.CopyFromUtf8(Sweep("api-watch", epochs: 10)) }, CoordinatorFixture.Authorized,
            cancellationToken: TestContext.Current.CancellationToken);
        static bool Completes(WatchEvent e) => e.Sweep is { SweepId: "api-watch", Change: SweepChange.Complete };

        // One watcher, never interrupted: a snapshot stamped with the cursor it is current up to (the sweep, then its
        // jobs in one chunk), then every event.
        var whole = await ReadWatch(client, "api-watch", after: 0, Completes);
        whole[0].EventCase.ShouldBe(WatchEvent.EventOneofCase.Snapshot);
        whole[0].Snapshot.Jobs.ShouldBeEmpty();
        whole[0].Snapshot.TotalJobs.ShouldBe(10);
        whole[1].SnapshotJobs.ShouldSatisfyAllConditions(chunk => chunk.Jobs.Count.ShouldBe(10), chunk => chunk.Last.ShouldBeTrue());
        whole[1].Cursor.ShouldBe(whole[0].Cursor);
        var events = whole.Skip(2).ToList();
        events.ShouldContain(e => e.EventCase == WatchEvent.EventOneofCase.Metrics && e.Metrics.Metrics.Epoch == 10);
        events.Last().ShouldSatisfyAllConditions(e => Completes(e).ShouldBeTrue());
        events.Select(e => e.Cursor).ShouldBeInOrder(SortDirection.Ascending);

        // Another, cut off after every 5 events and reconnecting after the last cursor it received.
        var pieces = new List<WatchEvent>();
        long cursor = whole[0].Cursor;
        int connections = 0;
        while (!pieces.Any(Completes))
        {
            var part = await ReadWatch(client, "api-watch", cursor, Completes, limit: 5);
            part.ShouldNotBeEmpty();
            pieces.AddRange(part);
            cursor = part[^1].Cursor;
            connections++;
        }
        connections.ShouldBeGreaterThan(3);
        pieces.Select(e => e.ToString()).ShouldBe(events.Select(e => e.ToString())); // the same events, none lost, none twice

        // Every job's final state is among them, once.
        var finished = events.Where(e => e.EventCase == WatchEvent.EventOneofCase.Job && e.Job.State == JobState.Done).Select(e => e.Job.JobId).ToList();
        finished.Count.ShouldBe(10);
        finished.Distinct().Count().ShouldBe(10);
    }

    [Fact]
    public async Task The_live_page_of_a_running_sweep_shows_its_finished_count_rising_without_a_reload_behind_the_token()
    {
        var cancellation = TestContext.Current.CancellationToken;
        using var http = new HttpClient();
        (await http.GetAsync($"{coordinator.PagesUrl}/", cancellation)).StatusCode.ShouldBe(System.Net.HttpStatusCode.Unauthorized);
        using var channel = GrpcChannel.ForAddress(coordinator.Endpoint);
        var submit = new SubmitRequest { FileName = "api-live.yaml", Content = ByteString.CopyFromUtf8(Sweep("api-live", epochs: 8)) };
        await coordinator.Client(channel).SubmitAsync(submit, CoordinatorFixture.Authorized, cancellationToken: cancellation);

        await using var page = await ChromiumPage.OpenAsync($"{coordinator.PagesUrl}/sweeps/api-live?token={CoordinatorFixture.Token}", cancellation);
        string? first = null;
        for (var waited = System.Diagnostics.Stopwatch.StartNew(); first is null && waited.Elapsed < TimeSpan.FromSeconds(30); await Task.Delay(200, cancellation))
            first = await page.EvaluateAsync("document.getElementById('progress')?.dataset.done", cancellation);
        first.ShouldNotBeNull("the page never showed the sweep's progress");
        await page.EvaluateAsync("window.loadedOnce = 'yes'", cancellation); // a reload would forget it
        int done = int.Parse(first);
        for (var waited = System.Diagnostics.Stopwatch.StartNew(); done <= int.Parse(first) && waited.Elapsed < TimeSpan.FromMinutes(3); await Task.Delay(500, cancellation))
            done = int.Parse(await page.EvaluateAsync("document.getElementById('progress').dataset.done", cancellation) ?? "0");
        done.ShouldBeGreaterThan(int.Parse(first), "the finished count on the page did not rise");
        (await page.EvaluateAsync("window.loadedOnce", cancellation)).ShouldBe("yes");
        int.Parse(await page.EvaluateAsync("document.getElementById('live').dataset.refreshes", cancellation) ?? "0").ShouldBeGreaterThan(0);
        page.Console.ShouldBeEmpty();

        // The index lists it, for a client that sends the token as a header; the page's own content is the report's.
        var index = new HttpRequestMessage(HttpMethod.Get, $"{coordinator.PagesUrl}/");
        index.Headers.Authorization = new("Bearer", CoordinatorFixture.Token);
        (await (await http.SendAsync(index, cancellation)).Content.ReadAsStringAsync(cancellation)).ShouldContain("href=\"/sweeps/api-live\"");
    }

    [Fact]
    public async Task Three_hundred_watch_streams_from_one_client_connection_all_receive_events()
    {
        var result = await PythonClient.RunAsync(coordinator.Endpoint, coordinator.TokenFile, "watchers", "--count", "300",
            "--sweep", TestData.WriteFile("api-watchers.yaml", Sweep("api-watchers", epochs: 1)));
        result.GetProperty("received").GetInt32().ShouldBe(300, result.ToString()); // Kestrel's default allows 100 streams a connection
    }

    [Fact]
    public async Task The_python_client_submits_watches_through_a_dropped_connection_and_reads_results_as_the_coordinators_results_csv()
    {
        var root = await PythonClient.RunAsync(coordinator.Endpoint, coordinator.TokenFile, "workflow",
            // Long enough that epochs finish while it watches, and trials of their own: a trial another sweep of this
            // coordinator finished (api-watch's, at 10 epochs) would be reused, not trained, and send no epochs.
            "--sweep", TestData.WriteFile("api-python.yaml", Sweep("api-python", epochs: 12)));
        TestContext.Current.TestOutputHelper?.WriteLine(root.ToString());
        root.GetProperty("submitted_jobs").GetInt32().ShouldBe(10);
        root.GetProperty("drops").GetInt32().ShouldBe(1);
        root.GetProperty("reconnects").GetInt32().ShouldBeGreaterThanOrEqualTo(1); // the watch resumed after the proxy dropped it
        root.GetProperty("cursors_increase").GetBoolean().ShouldBeTrue(); // nothing twice
        var done = root.GetProperty("done").EnumerateArray().Select(e => e.GetString()).ToList();
        done.Count.ShouldBe(10);
        root.GetProperty("watched_done").EnumerateArray().Select(e => e.GetString()).ShouldBe(done); // nothing lost: every job seen finishing
        root.GetProperty("last_event").GetString().ShouldBe("SweepChanged");
        root.GetProperty("epoch_events").GetInt32().ShouldBeGreaterThan(0);
        root.GetProperty("dataframe_type").GetString().ShouldBe("pandas.core.frame.DataFrame");
        root.GetProperty("columns").EnumerateArray().Select(e => e.GetString()).ShouldBe(root.GetProperty("csv_columns").EnumerateArray().Select(e => e.GetString()));
        root.GetProperty("columns").EnumerateArray().Select(e => e.GetString()).ShouldContain("latency_ms");
        root.GetProperty("mismatches").GetArrayLength().ShouldBe(0, root.GetProperty("mismatches").ToString());
        root.GetProperty("report_has_html").GetBoolean().ShouldBeTrue();
        root.GetProperty("listed").GetBoolean().ShouldBeTrue();
        root.GetProperty("get_total_jobs").GetInt32().ShouldBe(10);
    }
}
