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
/// this process; then read by the Python client (clients/python) with gRPC's default 4 MiB message limit, into a DataFrame.
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
    public async Task The_python_client_with_default_limits_reads_a_100k_job_sweep_through_watch_and_into_a_dataframe()
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

        var read = await PythonClient.RunAsync($"http://127.0.0.1:{grpcPort}", tokenFile, "read", "--sweep-id", "large");
        TestContext.Current.TestOutputHelper?.WriteLine(read.ToString());
        read.GetProperty("snapshot_total_jobs").GetInt32().ShouldBe(Jobs);
        read.GetProperty("snapshot_jobs").GetInt32().ShouldBe(Jobs);
        read.GetProperty("snapshot_chunks").GetInt32().ShouldBe(Jobs / 1000);
        read.GetProperty("rows").GetInt32().ShouldBe(Jobs); // every page read through the default 4 MiB message limit
        read.GetProperty("done").GetInt32().ShouldBe(Jobs);
        read.GetProperty("best_point").GetString().ShouldBe($"{Points - 1}");
        read.GetProperty("columns").EnumerateArray().Select(e => e.GetString()).ShouldContain("pareto_front");

        await node.StopAsync(cancellation);
        await server.StopAsync(cancellation);
    }
}

/// <summary>Test classes that load the machine so much that they run by themselves, after the others.</summary>
[CollectionDefinition(nameof(RunsAlone), DisableParallelization = true)]
public sealed class RunsAlone;
