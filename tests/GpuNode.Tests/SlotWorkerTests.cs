using Microsoft.Extensions.Logging.Abstractions;
using Orchestrator.Distillation.Configuration;
using Orchestrator.Distillation.Data;
using Orchestrator.Distillation.Losses;
using Orchestrator.Distillation.Models;
using Orchestrator.Distillation.Training;
using Orchestrator.Distillation.Trials;
using Orchestrator.GpuNode;
using Orchestrator.Protocol.V1;
using Orchestrator.Tests;
using Shouldly;
using EpochMetrics = Orchestrator.Protocol.V1.EpochMetrics;
using TrialStatus = Orchestrator.Protocol.V1.TrialStatus;

namespace Orchestrator.GpuNode.Tests;

/// <summary>Each slot trains in a real worker process (this project's Orchestrator.GpuNode), reused from job to job, replaced when it dies.</summary>
public sealed class SlotWorkerTests : IDisposable
{
    readonly SlotWorkers workers = new(NullLogger<SlotWorkers>.Instance);

    static JobSpec Job(string id, string model, int epochs) => new()
    {
        SweepId = "workers", JobId = id, Kind = JobKind.Teacher, Epochs = epochs, OutputDirectory = TestData.TemporaryDirectory(),
        WorkJson = TrialJson.Write(new TrialConfig(id, new DataOptions("synthetic", Validation: 200), new ModelSpec(model), null, LossRecipe.LabelsOnly,
            new TrainingOptions(epochs, 32, new OptimizerOptions(), new ScheduleOptions(), Seed: 1), "cpu")),
    };

    /// <summary>
    /// Runs <paramref name="job"/> on <paramref name="slot"/>'s thread; <paramref name="afterFirstEpoch"/> is called
    /// once, when its first epoch is in; <paramref name="cancel"/> cancels the job, <paramref name="stop"/> stops it for good.
    /// </summary>
    Task<TrialSummary> Run(JobSpec job, int slot, List<EpochMetrics>? epochs = null, Action? afterFirstEpoch = null, CancellationTokenSource? cancel = null,
        CancellationTokenSource? stop = null) =>
        Task.Factory.StartNew(() =>
        {
            TrialSummary? summary = null;
            workers.Run([new PackedJob(job, epoch =>
            {
                lock (job) epochs?.Add(epoch);
                if (epoch.Epoch == 1) afterFirstEpoch?.Invoke();
            }, new JobSignals(cancel?.Token ?? CancellationToken.None, stop?.Token ?? CancellationToken.None), done => summary = done)], slot, "cpu");
            return summary!;
        }, TestContext.Current.CancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default)
        .WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken);

    [Fact]
    public async Task Each_slot_trains_in_a_worker_process_of_its_own_which_also_runs_the_slots_next_jobs()
    {
        var epochs = new List<EpochMetrics>();
        var first = await Run(Job("first", "mlp-16", 3), 0, epochs);
        first.Status.ShouldBe(TrialStatus.Completed, first.FailureReason);
        epochs.Select(e => e.Epoch).ShouldBe([1, 2, 3]); // streamed from the worker as they finished
        int worker = workers.ProcessIds[0];
        worker.ShouldNotBe(Environment.ProcessId);

        var (again, other) = (Run(Job("again", "mlp-16", 1), 0), Run(Job("other", "mlp-16", 1), 1));
        (await again).Status.ShouldBe(TrialStatus.Completed);
        (await other).Status.ShouldBe(TrialStatus.Completed);
        workers.ProcessIds[0].ShouldBe(worker); // reused
        workers.ProcessIds[1].ShouldNotBe(worker); // a slot of its own
    }

    [Fact]
    public async Task Cancelling_stops_the_job_within_a_batch_keeps_its_checkpoint_and_the_worker_serves_on()
    {
        using var cancel = new CancellationTokenSource();
        var job = Job("long", "mlp-1200-1200", 500);
        var summary = await Run(job, 0, afterFirstEpoch: cancel.Cancel, cancel: cancel);
        summary.Status.ShouldBe(TrialStatus.Cancelled);
        summary.EpochsRun.ShouldBeLessThan(500);
        File.Exists(Path.Combine(job.OutputDirectory, TrialFolder.LastCheckpointFile)).ShouldBeTrue();
        int worker = workers.ProcessIds[0];

        (await Run(Job("next", "mlp-16", 1), 0)).Status.ShouldBe(TrialStatus.Completed);
        workers.ProcessIds[0].ShouldBe(worker);
    }

    [Fact]
    public async Task Stopping_ends_the_job_within_a_batch_with_its_best_checkpoints_test_accuracy_and_a_later_attempt_only_reports_it()
    {
        using var stop = new CancellationTokenSource();
        var job = Job("stopped", "mlp-1200-1200", 500);
        var summary = await Run(job, 0, afterFirstEpoch: stop.Cancel, stop: stop);
        summary.Status.ShouldBe(TrialStatus.Stopped, summary.FailureReason);
        summary.EpochsRun.ShouldBeInRange(1, 499);
        summary.BestEpoch.ShouldBeGreaterThanOrEqualTo(1);
        summary.HasTestAccuracy.ShouldBeTrue();
        File.Exists(Path.Combine(job.OutputDirectory, TrialFolder.BestCheckpointFile)).ShouldBeTrue();

        // Dispatched again (its report was lost): the summary it wrote is its result; nothing trains.
        var again = await Run(new JobSpec(job) { StopReason = "stopped by hyperband" }, 0);
        (again.Status, again.EpochsRun, again.TestAccuracy).ShouldBe((TrialStatus.Stopped, summary.EpochsRun, summary.TestAccuracy));

        // Stopped before it ran: no epoch, no result.
        var never = await Run(new JobSpec(Job("never", "mlp-16", 3)) { StopReason = "not run" }, 0);
        (never.Status, never.EpochsRun, never.HasTestAccuracy).ShouldBe((TrialStatus.Stopped, 0, false));
    }

    [Fact]
    public async Task A_worker_that_dies_fails_only_its_job_and_the_next_job_gets_a_new_worker()
    {
        int? killed = null;
        var summary = await Run(Job("doomed", "mlp-1200-1200", 500), 0, afterFirstEpoch: () =>
        {
            killed = workers.ProcessIds[0];
            System.Diagnostics.Process.GetProcessById(killed.Value).Kill(); // SIGKILL, as the out-of-memory killer would
        });
        summary.Status.ShouldBe(TrialStatus.Failed);
        summary.Crashed.ShouldBeTrue(); // not the job's fault: the coordinator runs it again
        summary.FailureReason.ShouldContain("the slot's worker process ended with exit code 137 during the job");

        (await Run(Job("after", "mlp-16", 1), 0)).Status.ShouldBe(TrialStatus.Completed);
        workers.ProcessIds[0].ShouldNotBe(killed!.Value);
    }

    [Fact]
    public async Task A_failing_epoch_callback_ends_the_worker_so_the_next_job_reads_no_leftover_lines()
    {
        int? worker = null;
        await Should.ThrowAsync<InvalidOperationException>(() => Run(Job("broken", "mlp-1200-1200", 500), 0, afterFirstEpoch: () =>
        {
            worker = workers.ProcessIds[0];
            throw new InvalidOperationException("the node could not forward the epoch");
        }));
        (await Processes.EndsAsync(worker!.Value, TimeSpan.FromSeconds(10))).ShouldBeTrue();

        var epochs = new List<EpochMetrics>();
        (await Run(Job("clean", "mlp-16", 2), 0, epochs)).Status.ShouldBe(TrialStatus.Completed);
        epochs.Select(e => e.Epoch).ShouldBe([1, 2]); // only this job's
    }

    [Fact]
    public async Task Disposing_the_workers_ends_their_processes()
    {
        (await Run(Job("one", "mlp-16", 1), 0)).Status.ShouldBe(TrialStatus.Completed);
        var process = System.Diagnostics.Process.GetProcessById(workers.ProcessIds[0]);
        workers.Dispose(); // closes the workers' stdin, as a node that stops or dies does
        process.WaitForExit(TimeSpan.FromSeconds(30)).ShouldBeTrue();
    }

    [Fact]
    public async Task A_worker_that_hears_nothing_from_its_node_stops_its_job_after_a_batch_and_exits()
    {
        // The node's end played by hand: a job, then silence with stdin left open, as from a node stopped with SIGSTOP.
        var info = SlotWorkers.WorkerStartInfo();
        info.RedirectStandardInput = info.RedirectStandardOutput = info.RedirectStandardError = true;
        using var worker = System.Diagnostics.Process.Start(info)!;
        worker.ErrorDataReceived += (_, _) => { };
        worker.BeginErrorReadLine();
        var job = Job("silent", "mlp-1200-1200", 500);
        await worker.StandardInput.WriteLineAsync(Google.Protobuf.JsonFormatter.Default.Format(new SlotWorkerInput { Run = new RunOnDevice { Job = job, Device = "cpu" } }));
        await worker.StandardInput.FlushAsync(TestContext.Current.CancellationToken);

        var lines = new List<SlotWorkerOutput>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        while (await worker.StandardOutput.ReadLineAsync(timeout.Token) is { } line) lines.Add(Google.Protobuf.JsonParser.Default.Parse<SlotWorkerOutput>(line));
        await worker.WaitForExitAsync(timeout.Token);

        clock.Elapsed.ShouldBeGreaterThanOrEqualTo(SlotWorkerLoop.NodeSilence);
        lines.ShouldContain(l => l.KindCase == SlotWorkerOutput.KindOneofCase.Epoch);
        lines[^1].Done.Status.ShouldBe(TrialStatus.Cancelled); // stopped within a batch, its checkpoint kept
        lines[^1].Done.EpochsRun.ShouldBeLessThan(500);
        File.Exists(Path.Combine(job.OutputDirectory, TrialFolder.LastCheckpointFile)).ShouldBeTrue();
    }

    public void Dispose() => workers.Dispose();
}
