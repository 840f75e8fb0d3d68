using Microsoft.Extensions.Logging;
using Orchestrator.Coordinator.Api;
using Orchestrator.Coordinator.Cluster;
using Orchestrator.Coordinator.Planning;
using Orchestrator.Coordinator.Results;
using Orchestrator.GpuNode;
using Orchestrator.Protocol.V1;
using Orchestrator.Tests;
using Shouldly;

namespace Orchestrator.Coordinator.Tests;

/// <summary>The coordinator's followers on the in-process cluster, with jobs that finish at once (what is under test is the follower, not training).</summary>
public sealed class SweepFollowersTests
{
    const string Sweep = """
        name: followed
        dataset: { name: synthetic, validation: 200 }
        student: { model: mlp-16, epochs: 1, device: cpu }
        parameters:
          lr: { values: [0.01, 0.1] }
        """;

    static readonly JobRunner Instant = (job, _, _, _, _) =>
        new TrialSummary { Name = job.JobId, Status = TrialStatus.Completed, BestValidationAccuracy = 0.5, TestAccuracy = 0.5 };

    [Fact]
    public async Task A_follower_that_fails_is_logged_with_its_exception_and_started_again_until_the_results_are_written()
    {
        var token = TestContext.Current.CancellationToken;
        string directory = TestData.TemporaryDirectory();
        var plan = SweepPlanner.Plan(SweepFile.Load(TestData.WriteFile("sweep.yaml", Sweep)), directory);
        // A folder in results.csv's place makes writing it fail, as a full disk would.
        string results = Path.Combine(directory, SweepResults.CsvFile);
        Directory.CreateDirectory(results);
        await using var cluster = await LocalCluster.StartAsync(ClusterSettings.Sqlite(Path.Combine(directory, "journal.db"), LocalCluster.Node), [["cpu"]], token, Instant);
        var log = new RecordingLogger<SweepFollowers>();
        var followers = new SweepFollowers(new CoordinatorContext(() => cluster.System, directory, Path.Combine(directory, "soft-targets")), log, TimeSpan.FromMilliseconds(200));

        await SweepRegion.Submit(cluster.Sweeps, plan, Path.Combine(directory, "soft-targets"), SweepRegion.AsUserInput, token);
        followers.Follow(plan.Sweep.Name, plan.Directory);
        await Until(() => log.Entries.Count(e => e.Level == LogLevel.Error) >= 2, "the follower to fail twice");
        var failure = log.Entries.First(e => e.Level == LogLevel.Error);
        failure.Message.ShouldContain("Following sweep followed failed (attempt 1)");
        failure.Exception.ShouldNotBeNull(); // with its stack, not only its message
        File.Exists(results).ShouldBeFalse();

        Directory.Delete(results); // the disk has room again
        await Until(() => log.Entries.Any(e => e.Message.StartsWith("followed: best recipe on val_accuracy")), "the best recipe, logged once the results are written");
        File.ReadAllLines(results).Length.ShouldBe(3); // the header and both trials
        await followers.StopAsync(token);
    }

    [Fact]
    public async Task On_start_it_follows_the_sweeps_held_before_a_restart_whose_results_were_never_written()
    {
        var token = TestContext.Current.CancellationToken;
        string directory = TestData.TemporaryDirectory();
        var plan = SweepPlanner.Plan(SweepFile.Load(TestData.WriteFile("sweep.yaml", Sweep)), directory);
        var journal = ClusterSettings.Sqlite(Path.Combine(directory, "journal.db"), LocalCluster.Node);
        await using (var before = await LocalCluster.StartAsync(journal, [], token))
            await SweepRegion.Submit(before.Sweeps, plan, Path.Combine(directory, "soft-targets"), SweepRegion.AsUserInput, token); // no node: nothing runs, nobody follows

        await using var restarted = await LocalCluster.StartAsync(journal, [["cpu"]], token, Instant);
        var followers = new SweepFollowers(new CoordinatorContext(() => restarted.System, directory, Path.Combine(directory, "soft-targets")),
            new RecordingLogger<SweepFollowers>(), TimeSpan.FromMilliseconds(200));
        await followers.StartAsync(token);
        await Until(() => File.Exists(Path.Combine(directory, SweepResults.CsvFile)), "results.csv of the sweep submitted before the restart");
        await followers.StopAsync(token);
    }

    static async Task Until(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!condition())
        {
            DateTime.UtcNow.ShouldBeLessThan(deadline, $"waited for {what}");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }
}
