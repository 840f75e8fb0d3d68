using System.Collections.Concurrent;
using Orchestrator.Coordinator.Cluster;
using Orchestrator.Coordinator.Planning;
using Orchestrator.Coordinator.Results;
using Orchestrator.Distillation.Configuration;
using Orchestrator.GpuNode;
using Orchestrator.Protocol.V1;
using Orchestrator.Tests;
using Shouldly;

namespace Orchestrator.Coordinator.Tests;

/// <summary>
/// early_terminate and method: bayes end to end on the in-process cluster (sweep file, planner, entity journalled in
/// SQLite, scheduler, node agent) with SYNTHETIC trials: each epoch takes 40 ms and measures 100 x its learning rate
/// (less the distance of its dropout from 0.3), so points rank by lr.
/// </summary>
public sealed class AdaptiveSweepClusterTests
{
    const int Epochs = 6;

    const string SweepText = """
        name: stopping
        dataset: { name: synthetic, validation: 200 }
        student: { model: mlp-16, epochs: 6, device: cpu }
        parameters:
          lr: { values: [0.001, 0.002, 0.003, 0.004, 0.005, 0.006, 0.007, 0.008, 0.009] }
        early_terminate: { type: hyperband, min_iter: 1, eta: 3 }
        """;

    /// <summary>Every job the runner started, by id (a restarted sweep must start none).</summary>
    readonly ConcurrentDictionary<string, int> runs = new();

    TrialSummary Synthetic(JobSpec job, int slot, string device, Action<EpochMetrics> onEpoch, JobSignals signals)
    {
        runs.AddOrUpdate(job.JobId, 1, (_, n) => n + 1);
        var trial = TrialJson.Read(job.WorkJson);
        double rate = trial.Training.Optimizer.LearningRate * 100 - Math.Abs((trial.Model.Dropout ?? 0.3) - 0.3);
        int epoch = 0;
        while (job.StopReason.Length == 0 && epoch < job.Epochs && !signals.Stop.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(40)))
        {
            if (signals.Cancellation.IsCancellationRequested) return new TrialSummary { Name = job.JobId, Status = TrialStatus.Cancelled };
            onEpoch(new EpochMetrics { Epoch = ++epoch, ValidationAccuracy = rate + epoch * 0.001 });
        }
        double best = rate + epoch * 0.001;
        return new TrialSummary
        {
            Name = job.JobId, Status = epoch == job.Epochs ? TrialStatus.Completed : TrialStatus.Stopped, EpochsRun = epoch, BestEpoch = epoch,
            BestValidationAccuracy = epoch > 0 ? best : 0, TestAccuracy = epoch > 0 ? best - 0.01 : 0,
        };
    }

    [Fact]
    public async Task Worse_points_stop_at_a_band_with_their_reasons_persisted_and_a_restarted_sweep_runs_none_of_them_again()
    {
        var token = TestContext.Current.CancellationToken;
        string directory = TestData.TemporaryDirectory();
        var plan = SweepPlanner.Plan(SweepFile.Load(TestData.WriteFile("sweep.yaml", SweepText)), directory);
        plan.Bands.ShouldBe([1, 3]); // 1, 3, 9 > 6 epochs
        var journal = ClusterSettings.Sqlite(Path.Combine(directory, "journal.db"), LocalCluster.Node);
        string store = Path.Combine(directory, "soft-targets");

        SweepStatus finished;
        await using (var cluster = await LocalCluster.StartAsync(journal, [["cpu", "cpu", "cpu"]], token, Synthetic))
        {
            await SweepRegion.Submit(cluster.Sweeps, plan, store, SweepRegion.AsUserInput, token);
            await SweepRegion.Completed(cluster.System, cluster.Sweeps, plan.Sweep.Name, token);
            finished = await SweepRegion.Status(cluster.Sweeps, plan.Sweep.Name, token);
        }

        var stopped = finished.Jobs.Where(j => j.State == JobState.Stopped).ToList();
        stopped.ShouldNotBeEmpty();
        foreach (var job in stopped)
        {
            job.StopReason.ShouldStartWith("stopped by hyperband at epoch ");
            job.Summary.StopReason.ShouldBe(job.StopReason);
            job.Summary.EpochsRun.ShouldBeLessThan(Epochs);
            job.Summary.HasTestAccuracy.ShouldBeTrue(); // its best checkpoint's
        }
        finished.Counts.Stopped.ShouldBe(stopped.Count);
        (finished.Counts.Done + finished.Counts.Stopped).ShouldBe(9);
        // The best point is never below a threshold: it trains to its last epoch, and is the sweep's best.
        var best = finished.Jobs.Single(j => j.Parameters["lr"] == "0.009");
        (best.State, best.Summary.EpochsRun).ShouldBe((JobState.Done, Epochs));
        finished.Best.Parameters["lr"].ShouldBe("0.009");
        var before = runs.ToDictionary();

        // A restarted coordinator holds the same stops and runs nothing again, submitted again or not.
        await using var restarted = await LocalCluster.StartAsync(journal, [["cpu", "cpu", "cpu"]], token, Synthetic);
        var recovered = await SweepRegion.Status(restarted.Sweeps, plan.Sweep.Name, token);
        recovered.Jobs.Select(j => (j.JobId, j.State, j.StopReason)).ShouldBe(finished.Jobs.Select(j => (j.JobId, j.State, j.StopReason)));
        (await SweepRegion.Submit(restarted.Sweeps, plan, store, SweepRegion.AsUserInput, token)).AlreadyDone.ShouldBe(9);
        // Nothing is queued or running once it has answered, so nothing can be handed to a slot: no wait needed.
        var again = await SweepRegion.Status(restarted.Sweeps, plan.Sweep.Name, token);
        (again.Counts.Queued, again.Counts.Running).ShouldBe((0, 0));
        runs.ToDictionary().ShouldBe(before);
    }

    const string BayesText = """
        name: proposing
        dataset: { name: synthetic, validation: 200 }
        student: { model: mlp-16, epochs: 3, device: cpu }
        method: bayes
        run_cap: 14
        parameters:
          lr: { min: 0.001, max: 0.009, distribution: log_uniform_values }
          student.model.dropout: { min: 0.0, max: 0.6 }
        early_terminate: { type: hyperband, min_iter: 1, eta: 3 }
        """;

    [Fact]
    public async Task A_bayes_sweep_proposes_as_slots_free_up_goes_on_after_a_restart_and_proposes_run_cap_points_in_all()
    {
        var token = TestContext.Current.CancellationToken;
        string directory = TestData.TemporaryDirectory();
        var plan = SweepPlanner.Plan(SweepFile.Load(TestData.WriteFile("sweep.yaml", BayesText)), directory);
        plan.Jobs.ShouldBeEmpty(); // proposed as it runs
        var journal = ClusterSettings.Sqlite(Path.Combine(directory, "journal.db"), LocalCluster.Node);
        string store = Path.Combine(directory, "soft-targets");

        IReadOnlyDictionary<string, JobState> before;
        await using (var cluster = await LocalCluster.StartAsync(journal, [["cpu", "cpu", "cpu"]], token, Synthetic))
        {
            await SweepRegion.Submit(cluster.Sweeps, plan, store, SweepRegion.AsUserInput, token);
            while ((await SweepRegion.Summary(cluster.Sweeps, plan.Sweep.Name, token)).Counts is var c && c.Done + c.Stopped < 6) await Task.Delay(50, token);
            before = (await SweepRegion.Status(cluster.Sweeps, plan.Sweep.Name, token)).Jobs.ToDictionary(j => j.JobId, j => j.State);
        } // stopped mid-sweep: its running jobs are cancelled, and come back queued

        await using var restarted = await LocalCluster.StartAsync(journal, [["cpu", "cpu", "cpu"]], token, Synthetic);
        var finished = await SweepRegion.Completed(restarted.System, restarted.Sweeps, plan.Sweep.Name, token);
        finished.Jobs.Count.ShouldBe(14); // one student per point, run_cap points, none proposed twice
        finished.Jobs.Select(j => SweepResults.PointKey(j.Parameters)).Distinct().Count().ShouldBe(14);
        foreach (var (id, state) in before) finished.Jobs.ShouldContain(j => j.JobId == id); // what was proposed before the restart stands
        foreach (var (id, _) in before.Where(b => b.Value is JobState.Done or JobState.Stopped)) runs[id].ShouldBe(1); // and what finished is not run again
        (finished.Counts.Done + finished.Counts.Stopped).ShouldBe(14);
        finished.Counts.Stopped.ShouldBeGreaterThan(0); // hyperband with bayes
    }
}
