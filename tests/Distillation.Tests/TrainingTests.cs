using Orchestrator.Distillation.Configuration;
using Orchestrator.Distillation.Data;
using Orchestrator.Distillation.Losses;
using Orchestrator.Distillation.Models;
using Orchestrator.Distillation.SoftTargets;
using Orchestrator.Distillation.Training;
using Orchestrator.Distillation.Trials;
using Orchestrator.Tests;
using Shouldly;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Tests;

/// <summary>A small real Fashion-MNIST cut and two teachers (seeds 1 and 2) trained on it once per test run, shared by every class that asks for it.</summary>
public sealed class TeacherFixture
{
    public string DataRoot { get; } = TestData.FashionMnistSubset(train: 2400, test: 600);
    public string TeacherCheckpoint { get; }
    public TrainingResult TeacherResult { get; }
    /// <summary>The soft-target store of this class's students.</summary>
    public string SoftTargets { get; } = TestData.TemporaryDirectory();

    public TeacherFixture()
    {
        string directory = TestData.TemporaryDirectory();
        TeacherResult = TrialRunner.Run(TrainingTests.Config(DataRoot, "mlp-512", epochs: 4), directory, cancellation: CancellationToken.None);
        TeacherCheckpoint = Path.Combine(directory, TrialFolder.BestCheckpointFile);
        string second = TestData.TemporaryDirectory();
        TrialRunner.Run(TrainingTests.Config(DataRoot, "mlp-256", epochs: 3, seed: 2), second, cancellation: CancellationToken.None);
        SecondTeacherCheckpoint = Path.Combine(second, TrialFolder.BestCheckpointFile);
    }

    /// <summary>Another architecture and seed: with the first, an ensemble of two.</summary>
    public string SecondTeacherCheckpoint { get; }
}

public class TrainingTests(TeacherFixture fixture)
{
    public static TrialConfig Config(string dataRoot, string model, int epochs, LossRecipe? loss = null, string? teacher = null,
        OptimizerOptions? optimizer = null, int seed = 1, double? dropout = null, int? patience = null) =>
        new("test", new DataOptions("fashion-mnist", dataRoot, Validation: 400), new ModelSpec(model, dropout),
            teacher is null ? null : TeacherEnsemble.Single(teacher), loss ?? LossRecipe.LabelsOnly,
            new TrainingOptions(epochs, 128, optimizer ?? new OptimizerOptions("adam", 1e-3), new ScheduleOptions("cosine"), seed, patience), "cpu");

    TrainingResult Run(TrialConfig config, string directory, Action<EpochMetrics>? onEpoch = null, CancellationToken? cancellation = null) =>
        TrialRunner.Run(config, directory, onEpoch, log: null, cancellation ?? TestContext.Current.CancellationToken, fixture.SoftTargets);

    static readonly LossRecipe KdWithTriplet = new(LossRecipe.WeightsFromAlpha(["ce", "hinton", "triplet"], 0.5), 4, 1, RelationFeature.Logits);

    /// <summary>Everything an epoch measured except wall-clock time.</summary>
    static object Measured(EpochMetrics m) =>
        (m.Epoch, m.LearningRate, m.TrainLoss, string.Join(",", m.LossTerms.Select(t => $"{t.Key}={t.Value:R}")), m.TrainAccuracy, m.ValidationLoss, m.ValidationAccuracy);

    [Fact]
    public void Teacher_learns_real_fashion_mnist()
    {
        fixture.TeacherResult.Status.ShouldBe(TrialStatus.Completed);
        fixture.TeacherResult.TestAccuracy!.Value.ShouldBeGreaterThan(0.7); // chance is 0.1
    }

    [Fact]
    public void Among_epochs_of_equal_validation_accuracy_the_checkpoint_kept_is_the_one_of_lowest_validation_loss()
    {
        // The synthetic dataset is learnt to 100 % validation accuracy within an epoch or two, and the loss goes on falling.
        var config = Config(fixture.DataRoot, "mlp-64", epochs: 6) with { Data = new DataOptions("synthetic", Validation: 500) };
        var result = Run(config, TestData.TemporaryDirectory());
        double top = result.Epochs.Max(e => e.ValidationAccuracy);
        result.Epochs.Count(e => e.ValidationAccuracy == top).ShouldBeGreaterThan(1); // a tie to break, else this tests nothing
        var expected = result.Epochs.Where(e => e.ValidationAccuracy == top).MinBy(e => e.ValidationLoss)!;
        (result.BestEpoch, result.BestValidationAccuracy).ShouldBe((expected.Epoch, top));
        result.BestEpoch.ShouldNotBe(result.Epochs.First(e => e.ValidationAccuracy == top).Epoch); // not the first epoch at the top, as before
    }

    [Fact]
    public void The_same_training_twice_gives_checkpoints_of_one_identity_though_their_files_differ()
    {
        var config = Config(fixture.DataRoot, "mlp-64", epochs: 2) with { Data = new DataOptions("synthetic", Validation: 500) };
        string first = TestData.TemporaryDirectory(), second = TestData.TemporaryDirectory();
        Run(config, first);
        Run(config, second);
        var (a, b) = (new TeacherSource(Path.Combine(first, "best.ckpt")), new TeacherSource(Path.Combine(second, "best.ckpt")));
        TeacherSource.FileSha256(a.Checkpoint).ShouldNotBe(TeacherSource.FileSha256(b.Checkpoint)); // each file records its epochs' seconds
        a.Verify().ShouldStartWith("weights:");
        a.Verify().ShouldBe(b.Verify()); // so the soft-target key is the same on another machine, or in another clone
    }

    [Fact]
    public void Same_seed_gives_identical_metrics_and_another_seed_does_not()
    {
        var config = Config(fixture.DataRoot, "mlp-128", epochs: 2, dropout: 0.2);
        var first = Run(config, TestData.TemporaryDirectory());
        var second = Run(config, TestData.TemporaryDirectory());
        var other = Run(config with { Training = config.Training with { Seed = 2 } }, TestData.TemporaryDirectory());
        second.Epochs.Select(Measured).ShouldBe(first.Epochs.Select(Measured));
        second.TestAccuracy.ShouldBe(first.TestAccuracy);
        other.Epochs[0].TrainLoss.ShouldNotBe(first.Epochs[0].TrainLoss);
    }

    /// <summary>DKD with mdistiller's options, standardised logits and a 3-epoch warm-up, beside triplet KD.</summary>
    static readonly LossRecipe DkdWarmingUp = new(new Dictionary<string, double> { ["ce"] = 1, ["dkd"] = 1, ["triplet"] = 0.5 }, 4, 1, RelationFeature.Logits,
        Standardize: true, Warmup: 3, Options: new Dictionary<string, double> { ["dkd.alpha"] = 1, ["dkd.beta"] = 8 });

    public static TheoryData<string> Recipes => new("hinton + triplet", "dkd + triplet, standardised, warming up");

    [Theory]
    [MemberData(nameof(Recipes))]
    public void Resumed_run_ends_exactly_where_the_uninterrupted_run_ends(string recipe)
    {
        var loss = recipe.StartsWith("dkd") ? DkdWarmingUp : KdWithTriplet;
        var config = Config(fixture.DataRoot, "mlp-128", epochs: 4, loss, fixture.TeacherCheckpoint, dropout: 0.2);
        var uninterrupted = Run(config, TestData.TemporaryDirectory());
        // Each epoch's loss is its terms' means weighed as that epoch weighs them: the warm-up ramps 1/3, 2/3, 1, 1.
        foreach (var epoch in uninterrupted.Epochs)
        {
            double ramp = loss.WarmupFactor(epoch.Epoch - 1), weighed = epoch.LossTerms.Sum(t => t.Value * loss.Weights[t.Key] * (t.Key == "ce" ? 1 : ramp));
            epoch.TrainLoss.ShouldBe(weighed, tolerance: 1e-4 * weighed, $"epoch {epoch.Epoch}");
        }

        string directory = TestData.TemporaryDirectory();
        using var stop = new CancellationTokenSource();
        var interrupted = Run(config, directory, m => { if (m.Epoch == 2) stop.Cancel(); }, stop.Token);
        interrupted.Status.ShouldBe(TrialStatus.Cancelled);
        interrupted.Epochs.Count.ShouldBe(2);
        var resumed = Run(config, directory);

        resumed.Status.ShouldBe(TrialStatus.Completed);
        resumed.Epochs.Select(Measured).ShouldBe(uninterrupted.Epochs.Select(Measured));
        resumed.BestEpoch.ShouldBe(uninterrupted.BestEpoch);
        resumed.TestAccuracy.ShouldBe(uninterrupted.TestAccuracy);
    }

    [Fact]
    public void An_augmented_run_resumed_mid_way_ends_exactly_where_the_uninterrupted_run_ends()
    {
        var plain = Config(fixture.DataRoot, "mlp-128", epochs: 3, KdWithTriplet, fixture.TeacherCheckpoint);
        var config = plain with { Training = plain.Training with { Augment = new AugmentOptions(Flip: true, Jitter: 2) } };
        var uninterrupted = Run(config, TestData.TemporaryDirectory());
        uninterrupted.Epochs[0].TrainLoss.ShouldNotBe(Run(plain, TestData.TemporaryDirectory()).Epochs[0].TrainLoss); // it trained on other images

        string directory = TestData.TemporaryDirectory();
        using var stop = new CancellationTokenSource();
        Run(config, directory, m => { if (m.Epoch == 1) stop.Cancel(); }, stop.Token).Status.ShouldBe(TrialStatus.Cancelled);
        var resumed = Run(config, directory);
        resumed.Epochs.Select(Measured).ShouldBe(uninterrupted.Epochs.Select(Measured));
        resumed.TestAccuracy.ShouldBe(uninterrupted.TestAccuracy);
    }

    [Fact]
    public void Student_learns_from_soft_targets_alone()
    {
        var hintonOnly = new LossRecipe(new Dictionary<string, double> { ["hinton"] = 1 }, 4, 1, RelationFeature.Logits);
        var result = Run(Config(fixture.DataRoot, "mlp-128", epochs: 3, hintonOnly, fixture.TeacherCheckpoint), TestData.TemporaryDirectory());
        result.Epochs.ShouldAllBe(e => e.LossTerms.Keys.Single() == "hinton");
        result.Epochs[^1].TrainLoss.ShouldBeLessThan(result.Epochs[0].TrainLoss);
        result.TestAccuracy!.Value.ShouldBeGreaterThan(0.6); // it never saw a label
    }

    [Fact]
    public void Under_a_label_budget_the_student_alone_trains_on_the_labelled_samples_only()
    {
        var config = Config(fixture.DataRoot, "mlp-128", epochs: 2);
        config = config with { Data = config.Data with { Labels = 0.1 } };
        var result = Run(config, TestData.TemporaryDirectory());
        // Its epochs draw labelled samples only (hidden labels never count as correct): with a tenth labelled, an
        // epoch that also drew unlabelled ones could not reach a training accuracy above 0.1.
        result.Epochs[^1].TrainAccuracy.ShouldBeGreaterThan(0.5);
        result.TestAccuracy!.Value.ShouldBeGreaterThan(0.5);
    }

    [Fact]
    public void Under_a_label_budget_distillation_on_the_unlabelled_rest_beats_the_student_alone()
    {
        var kd = new LossRecipe(LossRecipe.WeightsFromAlpha(["ce", "hinton"], 0.9), 4, 1, RelationFeature.Logits);
        var alone = Config(fixture.DataRoot, "mlp-128", epochs: 3);
        alone = alone with { Data = alone.Data with { Labels = 40 } };
        var distilled = alone with { Loss = kd, Teacher = TeacherEnsemble.Single(fixture.TeacherCheckpoint) };
        var baseline = Run(alone, TestData.TemporaryDirectory());
        var student = Run(distilled, TestData.TemporaryDirectory());
        student.Epochs.ShouldAllBe(e => e.TrainAccuracy >= 0 && e.TrainAccuracy <= 1); // measured over the 40 labelled samples
        student.TestAccuracy!.Value.ShouldBeGreaterThan(baseline.TestAccuracy!.Value);
    }

    [Fact]
    public void Test_accuracy_is_measured_on_the_checkpoint_chosen_on_validation()
    {
        string directory = TestData.TemporaryDirectory();
        var config = Config(fixture.DataRoot, "mlp-128", epochs: 3, optimizer: new OptimizerOptions("sgd", 0.5, Momentum: 0.9));
        var result = Run(config, directory);
        var best = result.Epochs.MaxBy(e => e.ValidationAccuracy)!;
        result.BestEpoch.ShouldBe(best.Epoch);
        result.BestValidationAccuracy.ShouldBe(best.ValidationAccuracy);

        using var data = DistillationData.Load(config.Data, CPU);
        using var reloaded = TeacherLoader.Load(Path.Combine(directory, TrialFolder.BestCheckpointFile), data.Info, CPU);
        Evaluation.Evaluate(reloaded, data.Validation, 1000).Accuracy.ShouldBe(best.ValidationAccuracy);
        Evaluation.Evaluate(reloaded, data.Test, 1000).Accuracy.ShouldBe(result.TestAccuracy!.Value);
    }

    [Fact]
    public void Diverging_loss_fails_the_trial_with_the_reason()
    {
        var config = Config(fixture.DataRoot, "mlp-128", epochs: 3, optimizer: new OptimizerOptions("sgd", 1e12, Momentum: 0.9));
        var result = Run(config, TestData.TemporaryDirectory());
        result.Status.ShouldBe(TrialStatus.Failed);
        result.FailureReason.ShouldNotBeNull();
        result.FailureReason.ShouldMatch("loss became (NaN|∞|-∞|Infinity|-Infinity) in epoch 1");
        result.TestAccuracy.ShouldBeNull();
    }

    [Fact]
    public void Early_stopping_ends_the_run_after_patience_epochs_without_improvement()
    {
        var frozen = new OptimizerOptions("sgd", 1e-12, Momentum: 0);
        var result = Run(Config(fixture.DataRoot, "mlp-128", epochs: 10, optimizer: frozen, patience: 2), TestData.TemporaryDirectory());
        result.Status.ShouldBe(TrialStatus.EarlyStopped);
        result.Epochs.Count.ShouldBe(3);
        result.BestEpoch.ShouldBe(1);
    }

    [Fact]
    public void A_folder_holding_another_configuration_is_not_resumed()
    {
        string directory = TestData.TemporaryDirectory();
        Run(Config(fixture.DataRoot, "mlp-128", epochs: 1), directory);
        Should.Throw<UserInputException>(() => Run(Config(fixture.DataRoot, "mlp-128", epochs: 1, seed: 9), directory))
            .Message.ShouldContain("holds a run of a different configuration");
    }

    [Fact]
    public void Corrupted_checkpoint_is_detected_by_its_checksum()
    {
        string copy = Path.Combine(TestData.TemporaryDirectory(), "teacher.ckpt");
        var bytes = File.ReadAllBytes(fixture.TeacherCheckpoint);
        bytes[bytes.Length / 2] ^= 0xFF;
        File.WriteAllBytes(copy, bytes);
        Should.Throw<UserInputException>(() => Checkpoint.ReadState(copy)).Message.ShouldContain("checksum mismatch");
        File.WriteAllBytes(copy, bytes[..(bytes.Length / 3)]);
        Should.Throw<UserInputException>(() => Checkpoint.ReadState(copy)).Message.ShouldContain("truncated or corrupt");
    }

    [Fact]
    public void Distillation_without_a_teacher_is_rejected_before_training() =>
        Should.Throw<UserInputException>(() => Run(Config(fixture.DataRoot, "mlp-128", 1, KdWithTriplet), TestData.TemporaryDirectory()))
            .Message.ShouldContain("which need a teacher");
}
