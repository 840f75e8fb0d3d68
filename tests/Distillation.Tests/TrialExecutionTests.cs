using Google.Protobuf;
using Orchestrator.Distillation.Configuration;
using Orchestrator.Distillation.Data;
using Orchestrator.Distillation.Losses;
using Orchestrator.Distillation.Models;
using Orchestrator.Distillation.Training;
using Orchestrator.Distillation.Trials;
using Orchestrator.Tests;
using Shouldly;
using Proto = Orchestrator.Protocol.V1;

namespace Orchestrator.Distillation.Tests;

public class TrialExecutionTests
{
    static readonly string DataRoot = TestData.FashionMnistSubset(train: 1200, test: 300);

    static TrialConfig Config(int epochs) =>
        new("exec", new DataOptions("fashion-mnist", DataRoot, Validation: 200), new ModelSpec("mlp-64"), null, LossRecipe.LabelsOnly,
            new TrainingOptions(epochs, 100, new OptimizerOptions(), new ScheduleOptions(), Seed: 3), "cpu");

    static List<Proto.EpochMetrics> ReadMetrics(string directory) =>
        File.ReadAllLines(Path.Combine(directory, TrialFolder.MetricsFile)).Select(JsonParser.Default.Parse<Proto.EpochMetrics>).ToList();

    [Fact]
    public void A_trial_finished_in_another_folder_of_the_same_store_is_taken_not_trained_and_without_a_store_it_trains()
    {
        string store = TestData.TemporaryDirectory(), first = TestData.TemporaryDirectory(), second = TestData.TemporaryDirectory();
        var trained = TrialExecution.Run(Config(2), first, softTargetDirectory: store, cancellation: TestContext.Current.CancellationToken);
        int epochs = 0;
        var reused = TrialExecution.Run(Config(2), second, _ => epochs++, softTargetDirectory: store, cancellation: TestContext.Current.CancellationToken);
        epochs.ShouldBe(0);
        reused.Notes.ShouldContain($"reused: the same trial (identity {trained.ConfigurationHash}) finished in {first}; not trained again");
        (reused.TestAccuracy, reused.BestEpoch, reused.BestCheckpoint).ShouldBe((trained.TestAccuracy, trained.BestEpoch, Path.Combine(second, TrialFolder.BestCheckpointFile)));
        ReadMetrics(second).Select(m => m.Epoch).ShouldBe([1, 2]);
        File.ReadAllBytes(Path.Combine(second, TrialFolder.BestCheckpointFile)).ShouldBe(File.ReadAllBytes(Path.Combine(first, TrialFolder.BestCheckpointFile)));

        // A job spec without a store (empty) names none: nothing is looked up, nothing indexed where the process happens to run.
        TrialExecution.Run(Config(2), TestData.TemporaryDirectory(), _ => epochs++, softTargetDirectory: "", cancellation: TestContext.Current.CancellationToken);
        epochs.ShouldBe(2);
        Directory.Exists(Path.Combine(Environment.CurrentDirectory, "trials")).ShouldBeFalse();
    }

    [Fact]
    public void A_trial_writes_one_metrics_line_per_epoch_and_a_summary()
    {
        string directory = TestData.TemporaryDirectory();
        var summary = TrialExecution.Run(Config(3), directory, cancellation: TestContext.Current.CancellationToken);
        ReadMetrics(directory).Select(m => m.Epoch).ShouldBe([1, 2, 3]);
        // 1,000 training rows (1,200 less 200 for validation) at batch 100: ten steps an epoch.
        ReadMetrics(directory).ShouldAllBe(m => m.StepSeconds > 0 && Math.Abs(m.StepSeconds * 10 - m.Seconds) < 1e-9);
        var written = JsonParser.Default.Parse<Proto.TrialSummary>(File.ReadAllText(Path.Combine(directory, TrialFolder.SummaryFile)));
        written.ShouldBe(summary);
        written.Status.ShouldBe(Proto.TrialStatus.Completed);
        written.EpochsRun.ShouldBe(3);
        written.BestValidationAccuracy.ShouldBe(ReadMetrics(directory).Max(m => m.ValidationAccuracy));
        File.Exists(written.BestCheckpoint).ShouldBeTrue();
    }

    [Fact]
    public void Resuming_rewrites_metrics_to_the_checkpointed_epochs_so_no_line_is_repeated_or_lost()
    {
        string directory = TestData.TemporaryDirectory();
        using var stop = new CancellationTokenSource();
        var first = TrialExecution.Run(Config(4), directory, m => { if (m.Epoch == 2) stop.Cancel(); }, cancellation: stop.Token);
        first.Status.ShouldBe(Proto.TrialStatus.Cancelled);
        // A line written after the last checkpoint (as if the process died between the two) must not survive.
        File.AppendAllText(Path.Combine(directory, TrialFolder.MetricsFile), ReadMetrics(directory)[^1].ToString() + "\n");

        var resumed = TrialExecution.Run(Config(4), directory, cancellation: TestContext.Current.CancellationToken);
        resumed.Status.ShouldBe(Proto.TrialStatus.Completed);
        ReadMetrics(directory).Select(m => m.Epoch).ShouldBe([1, 2, 3, 4]);
    }

    [Fact]
    public void A_trial_dispatched_again_after_it_finished_reports_its_summary_and_changes_nothing()
    {
        string directory = TestData.TemporaryDirectory();
        var first = TrialExecution.Run(Config(3), directory, cancellation: TestContext.Current.CancellationToken, attempt: 1);
        var files = Directory.GetFiles(directory).ToDictionary(f => f, File.ReadAllBytes);
        var again = TrialExecution.Run(Config(3), directory, cancellation: TestContext.Current.CancellationToken, attempt: 10_001);
        again.ShouldBe(first);
        foreach (var (file, bytes) in files) File.ReadAllBytes(file).ShouldBe(bytes, file);

        // Another configuration's summary is never taken for this one's: it runs, and finds the folder is not its own.
        Should.Throw<Distillation.UserInputException>(() => TrialExecution.Run(Config(3) with { Training = Config(3).Training with { Seed = 4 } }, directory,
            cancellation: TestContext.Current.CancellationToken, attempt: 10_002)).Message.ShouldContain("holds a run of a different configuration");
    }

    [Fact]
    public void An_attempt_superseded_mid_run_stops_before_its_next_write_and_a_superseded_one_never_starts()
    {
        string directory = TestData.TemporaryDirectory();
        string fence = Path.Combine(directory, AttemptFence.FileName);
        // Attempt 3 trains; after its first epoch attempt 4 takes the folder over (its node was downed, the job went elsewhere).
        var overtaken = TrialExecution.Run(Config(5), directory, m => { if (m.Epoch == 1) File.WriteAllText(fence, "4\n"); },
            cancellation: TestContext.Current.CancellationToken, attempt: 3);
        (overtaken.Status, overtaken.FailureReason).ShouldBe((Proto.TrialStatus.Cancelled, "attempt 3 was superseded by attempt 4, which owns the trial's folder now"));
        ReadMetrics(directory).Select(m => m.Epoch).ShouldBe([1]); // epoch 2's checkpoint and line were never written
        Checkpoint.ReadState(Path.Combine(directory, TrialFolder.LastCheckpointFile)).EpochsDone.ShouldBe(1);
        File.Exists(Path.Combine(directory, TrialFolder.SummaryFile)).ShouldBeFalse();

        var current = TrialExecution.Run(Config(5), directory, cancellation: TestContext.Current.CancellationToken, attempt: 4);
        current.Status.ShouldBe(Proto.TrialStatus.Completed);
        var finished = Directory.GetFiles(directory).ToDictionary(f => f, File.ReadAllBytes);

        foreach (long stale in new[] { 3L, 1L })
        {
            var late = TrialExecution.Run(Config(5), directory, cancellation: TestContext.Current.CancellationToken, attempt: stale);
            late.Status.ShouldBe(Proto.TrialStatus.Cancelled);
            late.FailureReason.ShouldContain("superseded by attempt 4");
        }
        Directory.GetFiles(directory).Order().ShouldBe(finished.Keys.Order());
        foreach (var (file, bytes) in finished) File.ReadAllBytes(file).ShouldBe(bytes, file);
        File.ReadAllText(fence).ShouldBe("4\n");
    }
}
