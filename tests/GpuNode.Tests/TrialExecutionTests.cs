using Google.Protobuf;
using Orchestrator.Distillation.Configuration;
using Orchestrator.Distillation.Data;
using Orchestrator.Distillation.Losses;
using Orchestrator.Distillation.Models;
using Orchestrator.Distillation.Training;
using Orchestrator.Tests;
using Shouldly;
using Proto = Orchestrator.Protocol.V1;

namespace Orchestrator.GpuNode.Tests;

public class TrialExecutionTests
{
    static readonly string DataRoot = TestData.FashionMnistSubset(train: 1200, test: 300);

    static TrialConfig Config(int epochs) =>
        new("exec", new DataOptions("fashion-mnist", DataRoot, Validation: 200), new ModelSpec("mlp-64"), null, LossRecipe.LabelsOnly,
            new TrainingOptions(epochs, 100, new OptimizerOptions(), new ScheduleOptions(), Seed: 3), "cpu");

    static List<Proto.EpochMetrics> ReadMetrics(string directory) =>
        File.ReadAllLines(Path.Combine(directory, TrialExecution.MetricsFile)).Select(JsonParser.Default.Parse<Proto.EpochMetrics>).ToList();

    [Fact]
    public void A_trial_writes_one_metrics_line_per_epoch_and_a_summary()
    {
        string directory = TestData.TemporaryDirectory();
        var summary = TrialExecution.Run(Config(3), directory, cancellation: TestContext.Current.CancellationToken);
        ReadMetrics(directory).Select(m => m.Epoch).ShouldBe([1, 2, 3]);
        // 1,000 training rows (1,200 less 200 for validation) at batch 100: ten steps an epoch.
        ReadMetrics(directory).ShouldAllBe(m => m.StepSeconds > 0 && Math.Abs(m.StepSeconds * 10 - m.Seconds) < 1e-9);
        var written = JsonParser.Default.Parse<Proto.TrialSummary>(File.ReadAllText(Path.Combine(directory, TrialExecution.SummaryFile)));
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
        File.AppendAllText(Path.Combine(directory, TrialExecution.MetricsFile), ReadMetrics(directory)[^1].ToString() + "\n");

        var resumed = TrialExecution.Run(Config(4), directory, cancellation: TestContext.Current.CancellationToken);
        resumed.Status.ShouldBe(Proto.TrialStatus.Completed);
        ReadMetrics(directory).Select(m => m.Epoch).ShouldBe([1, 2, 3, 4]);
    }
}
