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

/// <summary>
/// Trials trained as one pack on real Fashion-MNIST end where each ends alone, and keep their own lifecycles. Packed and
/// alone runs differ only in the rounding of fused matmuls, so metrics agree to float tolerance, not bitwise:
/// losses within 1e-3 relative, accuracies within 1 % (4 of 400 validation images).
/// </summary>
public class PackedTrainingTests(TeacherFixture fixture)
{
    const int Epochs = 3;

    /// <summary>Three students of mlp-128 that differ in what a pack allows: alpha, temperature, margin, learning rate, weight decay, dropout.</summary>
    static readonly (double Alpha, double Temperature, double Margin, double Rate, double Decay, double Dropout)[] Points =
        [(0.5, 4, 1, 1e-3, 0, 0.2), (0.9, 2, 0.5, 3e-3, 1e-4, 0), (0.2, 8, 2, 5e-4, 0, 0.5)];

    DistillationData Data() => DistillationData.Load(new DataOptions("fashion-mnist", fixture.DataRoot, Validation: 400), CPU);

    OnlineTeacherOutputs Teacher(DistillationData data) =>
        new([TeacherLoader.Load(fixture.TeacherCheckpoint, data.Info, CPU)], TeacherEnsemble.Single(fixture.TeacherCheckpoint), embeddings: false);

    /// <param name="cancellation">Default: the test's own.</param>
    static TrainerTrial Trial(int point, DistillationData data, string? directory = null, int? patience = null, CancellationToken? cancellation = null,
        CancellationToken? stop = null, Action<EpochMetrics>? onEpoch = null, Action<TrainingResult>? onEnd = null)
    {
        var p = Points[point];
        manual_seed(1);
        var model = ModelRegistry.Create(new ModelSpec("mlp-128", p.Dropout), data.Info);
        var loss = new LossRecipe(LossRecipe.WeightsFromAlpha(["ce", "hinton", "triplet"], p.Alpha), p.Temperature, p.Margin, RelationFeature.Logits);
        var options = new TrainingOptions(Epochs, 128, new OptimizerOptions("adam", p.Rate, WeightDecay: p.Decay), new ScheduleOptions("cosine"), 1, patience);
        return new TrainerTrial(model, loss, options)
        {
            CheckpointDirectory = directory, ConfigurationHash = $"point {point}", OnEpoch = onEpoch,
            Cancellation = cancellation ?? TestContext.Current.CancellationToken, Stop = stop ?? CancellationToken.None, OnEnd = onEnd,
        };
    }

    IReadOnlyList<TrainingResult> Train(DistillationData data, params TrainerTrial[] trials)
    {
        using var teacher = Teacher(data);
        return new Trainer(trials, teacher, data, new ModelSpec("mlp-128"), CPU).Train();
    }

    static void ShouldAgree(TrainingResult actual, TrainingResult expected, string what)
    {
        actual.Status.ShouldBe(expected.Status, what);
        actual.Epochs.Count.ShouldBe(expected.Epochs.Count, what);
        foreach (var (a, e) in actual.Epochs.Zip(expected.Epochs))
        {
            a.TrainLoss.ShouldBe(e.TrainLoss, tolerance: 1e-3 * Math.Abs(e.TrainLoss), $"{what}, epoch {e.Epoch} train loss");
            a.ValidationLoss.ShouldBe(e.ValidationLoss, tolerance: 1e-3 * Math.Abs(e.ValidationLoss), $"{what}, epoch {e.Epoch} validation loss");
            a.ValidationAccuracy.ShouldBe(e.ValidationAccuracy, tolerance: 0.01, $"{what}, epoch {e.Epoch} validation accuracy");
            foreach (var (name, value) in e.LossTerms) a.LossTerms[name].ShouldBe(value, tolerance: 1e-3 * Math.Abs(value) + 1e-6, $"{what}, epoch {e.Epoch} {name}");
        }
        actual.TestAccuracy!.Value.ShouldBe(expected.TestAccuracy!.Value, tolerance: 0.01, what);
    }

    [Fact]
    public void Each_trial_of_a_pack_trains_as_it_trains_alone()
    {
        using var data = Data();
        var alone = Enumerable.Range(0, Points.Length).Select(k => Train(data, Trial(k, data))[0]).ToList();
        var packed = Train(data, [.. Enumerable.Range(0, Points.Length).Select(k => Trial(k, data))]);
        for (int k = 0; k < Points.Length; k++) ShouldAgree(packed[k], alone[k], $"trial {k}");
        // The points differ, so a mix-up between trials would show.
        packed.Select(r => r.Epochs[^1].TrainLoss).Distinct().Count().ShouldBe(Points.Length);
    }

    [Fact]
    public void A_trial_that_leaves_a_pack_resumes_alone_where_the_pack_would_have_taken_it()
    {
        using var data = Data();
        var uninterrupted = Train(data, [.. Enumerable.Range(0, Points.Length).Select(k => Trial(k, data, TestData.TemporaryDirectory()))]);

        // Trial 0 is cancelled after epoch 1 (a node going down), trial 2 stops after one epoch without improvement, and
        // trial 1 is stopped by its sweep before it starts; trial 0 then resumes from its own checkpoint, alone.
        string directory = TestData.TemporaryDirectory();
        using var cancel = new CancellationTokenSource();
        using var stopped = new CancellationTokenSource();
        stopped.Cancel();
        int patientEpochs = 0;
        var ended = new List<(int Trial, int PatientEpochs)>();
        var interrupted = Train(data,
            Trial(0, data, directory, cancellation: cancel.Token, onEpoch: m => { if (m.Epoch == 1) cancel.Cancel(); }, onEnd: _ => ended.Add((0, patientEpochs))),
            Trial(1, data, TestData.TemporaryDirectory(), stop: stopped.Token, onEnd: _ => ended.Add((1, patientEpochs))),
            Trial(2, data, TestData.TemporaryDirectory(), patience: 1, onEpoch: m => patientEpochs = m.Epoch, onEnd: _ => ended.Add((2, patientEpochs))));
        // Each reports as it leaves the pack, while the others train on.
        ended.Take(2).ShouldBe([(1, 0), (0, 1)]);
        ended[2].Trial.ShouldBe(2);
        interrupted[0].Status.ShouldBe(TrialStatus.Cancelled);
        interrupted[0].Epochs.Count.ShouldBe(1);
        interrupted[1].Status.ShouldBe(TrialStatus.Stopped);
        interrupted[1].Epochs.ShouldBeEmpty();
        var patient = interrupted[2];
        patient.Status.ShouldBeOneOf(TrialStatus.EarlyStopped, TrialStatus.Completed);
        patient.Epochs.Count.ShouldBeLessThanOrEqualTo(Epochs);
        for (int e = 0; e < patient.Epochs.Count; e++)
            patient.Epochs[e].TrainLoss.ShouldBe(uninterrupted[2].Epochs[e].TrainLoss, tolerance: 1e-3 * uninterrupted[2].Epochs[e].TrainLoss, "trial 2 goes on as before once the others left");

        var resumed = Train(data, Trial(0, data, directory))[0];
        ShouldAgree(resumed, uninterrupted[0], "trial 0 resumed alone");
        Checkpoint.ReadState(Path.Combine(directory, TrialFolder.LastCheckpointFile)).EpochsDone.ShouldBe(Epochs);
    }

    [Fact]
    public void Trials_that_resume_from_different_epochs_cannot_share_a_pack()
    {
        using var data = Data();
        string directory = TestData.TemporaryDirectory();
        using var cancel = new CancellationTokenSource();
        Train(data, Trial(0, data, directory, cancellation: cancel.Token, onEpoch: _ => cancel.Cancel()));
        Should.Throw<ArgumentException>(() => Train(data, Trial(0, data, directory), Trial(1, data, TestData.TemporaryDirectory())));
    }
}
