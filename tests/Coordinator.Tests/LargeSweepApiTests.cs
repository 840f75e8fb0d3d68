using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orchestrator.Coordinator.Api;
using Orchestrator.Coordinator.Cluster;
using Orchestrator.Coordinator.Commands;
using Orchestrator.GpuNode;
using Orchestrator.Hosting;
using Orchestrator.Protocol.V1;
using Orchestrator.Tests;
using Shouldly;

namespace Orchestrator.Coordinator.Tests;

/// <summary>
/// A sweep of 100,000 SYNTHETIC jobs (each reports a made-up summary at once: no training) through the real path: a
/// coordinator (sweep entity journalled in SQLite, scheduler, Kestrel) and a node agent joined over the cluster, in
/// this process; then read by the independent Python client with gRPC's default 4 MiB message limit.
/// </summary>
[Collection(nameof(RunsAlone))] // a minute of both cores: beside another CPU-bound test, both would only crawl
public sealed class LargeSweepApiTests
{
    const int Jobs = 100_000, Points = 1_000;

    /// <summary>Point p's seeds score p / Points on validation: the best point is the last.</summary>
    static TrialSummary Synthetic(JobSpec job, int slot, string device, Action<EpochMetrics> onEpoch, JobSignals signals)
    {
        int index = int.Parse(job.JobId.AsSpan("job-".Length));
        double accuracy = (double)(index % Points) / Points;
        return new TrialSummary
        {
            Name = job.JobId, Status = TrialStatus.Completed, EpochsRun = 1, BestEpoch = 1, BestValidationAccuracy = accuracy, BestValidationLoss = 1 - accuracy,
            TestAccuracy = accuracy, Seconds = 0.01,
        };
    }

    [Fact]
    public async Task A_python_client_with_default_limits_reads_a_100k_job_sweep_through_get_watch_and_results()
    {
        var cancellation = TestContext.Current.CancellationToken;
        string directory = TestData.TemporaryDirectory(), tokenFile = Path.Combine(directory, "token");
        await File.WriteAllTextAsync(tokenFile, CoordinatorFixture.Token + "\n", cancellation);
        int akkaPort = Loopback.FreePort(), grpcPort = Loopback.FreePort();
        string seed = ClusterFlags.Address("127.0.0.1", akkaPort);
        var member = new NodeSettings("127.0.0.1", akkaPort, [NodeSettings.CoordinatorRole], [seed]);
        await using var server = CoordinatorServer.Build(ClusterSettings.Sqlite(Path.Combine(directory, "journal.db"), member),
            new ApiOptions(grpcPort, CoordinatorFixture.Token), directory, Path.Combine(directory, "store"));
        await server.StartAsync(cancellation);
        var nodeBuilder = Host.CreateApplicationBuilder();
        var nodeMember = new NodeSettings("127.0.0.1", Loopback.FreePort(), [NodeSettings.GpuRole], [seed]);
        nodeBuilder.Services.AddAkka(NodeSettings.SystemName, akka => akka.AddGpuNodeAgent(nodeMember, "synthetic", Enumerable.Repeat("cpu", 50).ToList(), PackRunners.OneAtATime(Synthetic), capacity: 1));
        using var node = nodeBuilder.Build();
        await node.StartAsync(cancellation);

        var coordinator = server.Services.GetRequiredService<CoordinatorContext>();
        var submit = new SubmitSweep { SweepId = "large", Name = "large", Metric = "val_accuracy", Maximize = true, OutputRoot = Path.Combine(directory, "large", "jobs") };
        for (int i = 0; i < Jobs; i++)
            submit.Jobs.Add(new PlannedJob { JobId = $"job-{i:D6}", Kind = JobKind.Student, WorkJson = "{}", Seed = i / Points, Parameters = { ["point"] = $"{i % Points}" } });
        await Akka.Actor.Futures.Ask<SweepAccepted>(coordinator.Sweeps, submit, TimeSpan.FromMinutes(1), cancellation);
        await SweepRegion.Completed(coordinator.System, coordinator.Sweeps, "large", cancellation).WaitAsync(TimeSpan.FromMinutes(5), cancellation);

        var read = await PythonClient.RunAsync($"http://127.0.0.1:{grpcPort}", tokenFile, "--inspect", "large");
        TestContext.Current.TestOutputHelper?.WriteLine(read.ToString());
        read.GetProperty("get_total_jobs").GetInt32().ShouldBe(Jobs);
        read.GetProperty("get_done").GetInt32().ShouldBe(Jobs);
        read.GetProperty("get_first_page").GetInt32().ShouldBe(100);
        read.GetProperty("snapshot_total_jobs").GetInt32().ShouldBe(Jobs);
        read.GetProperty("snapshot_jobs").GetInt32().ShouldBe(Jobs);
        read.GetProperty("snapshot_chunks").GetInt32().ShouldBe(Jobs / 1000);
        read.GetProperty("results_jobs").GetInt32().ShouldBe(Jobs);
        read.GetProperty("results_done").GetInt32().ShouldBe(Jobs);
        read.GetProperty("results_pages").GetInt32().ShouldBe(Jobs / 1000);
        read.GetProperty("best").GetProperty("point").GetString().ShouldBe($"{Points - 1}");
        read.GetProperty("largest_message_bytes").GetInt32().ShouldBeLessThan(4 * 1024 * 1024);

        await node.StopAsync(cancellation);
        await server.StopAsync(cancellation);
    }
}

/// <summary>Test classes that load the machine so much that they run by themselves, after the others.</summary>
[CollectionDefinition(nameof(RunsAlone), DisableParallelization = true)]
public sealed class RunsAlone;
