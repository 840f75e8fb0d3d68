using System.Diagnostics;
using Orchestrator.Distillation.Data;
using Orchestrator.Distillation.Losses;
using Orchestrator.Distillation.Models;
using Orchestrator.Distillation.SoftTargets;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Training;

/// <summary>
/// Trains one model, optionally against teacher outputs (cached soft targets or frozen teachers), and keeps the weights of the epoch with the best
/// validation accuracy; the test set is evaluated once, on those weights.
/// Reproducibility: the global RNGs (shuffle, dropout, triplet negatives) are re-seeded from (seed, epoch) at the
/// start of every epoch and the learning rate is a function of the epoch, so a run resumed from an epoch's
/// checkpoint continues exactly as the uninterrupted run would have.
/// </summary>
public sealed class Trainer(Classifier model, ITeacherOutputs? teacher, LossRecipe loss, DistillationData data, TrainingOptions options, Device device)
{
    public const string LastCheckpoint = "last.ckpt";
    public const string BestCheckpoint = "best.ckpt";

    /// <summary>Where last.ckpt (resume) and best.ckpt (chosen on validation) go; null keeps the best weights in memory only.</summary>
    public string? CheckpointDirectory { get; init; }
    /// <summary>Identifies the configuration: a checkpoint of another configuration is never resumed.</summary>
    public string ConfigurationHash { get; init; } = "";
    public ModelSpec ModelSpec { get; init; } = new("unknown");
    public Action<EpochMetrics>? OnEpoch { get; init; }
    /// <summary>The attempt this run is (a sweep's dispatch): checked every second and before each checkpoint, it stops the run with <see cref="SupersededException"/> once a later attempt owns the folder.</summary>
    public AttemptFence? Fence { get; init; }

    /// <param name="cancellation">Ends the run after its batch, to resume later from the last epoch's checkpoint (<see cref="TrialStatus.Cancelled"/>).</param>
    /// <param name="stop">Ends it for good after its batch (its sweep stopped it): the epoch under way is dropped and the
    /// best checkpoint's test accuracy is the result (<see cref="TrialStatus.Stopped"/>); set before the run, no epoch is trained.</param>
    public TrainingResult Run(CancellationToken cancellation = default, CancellationToken stop = default)
    {
        model.to(device);
        using var optimizer = Optimizers.Create(options.Optimizer, model.parameters());
        var progress = Resume(optimizer);
        using var best = new BestWeights(model);
        if (progress.EpochsDone > 0 && BestPath is { } bestPath) best.LoadFrom(bestPath, model, LastPath!, optimizer);

        var history = progress.History.ToList();
        var status = TrialStatus.Completed;
        string? failure = null;
        for (int epoch = progress.EpochsDone; epoch < options.Epochs; epoch++)
        {
            double rate = options.Schedule.LearningRate(options.Optimizer.LearningRate, epoch, options.Epochs);
            Optimizers.SetLearningRate(optimizer, rate);
            manual_seed(options.Seed * 1_000_003L + epoch + 1);
            using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellation, stop);
            var epochResult = TrainEpoch(optimizer, either.Token);
            if (epochResult is null)
            {
                status = cancellation.IsCancellationRequested ? TrialStatus.Cancelled : TrialStatus.Stopped;
                break;
            }
            var (trainLoss, terms, trainAccuracy, seconds, steps) = epochResult.Value;
            if (!double.IsFinite(trainLoss))
            {
                status = TrialStatus.Failed;
                failure = $"loss became {trainLoss} in epoch {epoch + 1} (terms: {string.Join(", ", terms.Select(t => $"{t.Key}={t.Value}"))}); " +
                          "lower the learning rate or the temperature, or check the loss weights.";
                break;
            }
            var (validationLoss, validationAccuracy) = Evaluate(data.Validation);
            var metrics = new EpochMetrics(epoch + 1, rate, trainLoss, terms, trainAccuracy, validationLoss, validationAccuracy,
                data.Train.Count / seconds, seconds, seconds / steps);
            history.Add(metrics);

            if (validationAccuracy > progress.BestValidationAccuracy)
            {
                progress = progress with { BestEpoch = epoch + 1, BestValidationAccuracy = validationAccuracy, EpochsWithoutImprovement = 0 };
                best.Capture(model);
            }
            else
            {
                progress = progress with { EpochsWithoutImprovement = progress.EpochsWithoutImprovement + 1 };
            }
            progress = progress with { EpochsDone = epoch + 1, History = history.ToList() };
            SaveCheckpoints(progress, optimizer, improved: progress.BestEpoch == epoch + 1);
            OnEpoch?.Invoke(metrics);
            if (options.Patience is { } patience && progress.EpochsWithoutImprovement >= patience && epoch + 1 < options.Epochs)
            {
                status = TrialStatus.EarlyStopped;
                break;
            }
        }

        double? testAccuracy = null;
        if (status is TrialStatus.Completed or TrialStatus.EarlyStopped or TrialStatus.Stopped && progress.BestEpoch > 0)
        {
            best.Restore(model);
            testAccuracy = Evaluate(data.Test).Accuracy;
        }
        return new TrainingResult(status, failure, history, progress.BestEpoch, progress.BestValidationAccuracy, testAccuracy);
    }

    string? LastPath => CheckpointDirectory is null ? null : Path.Combine(CheckpointDirectory, LastCheckpoint);
    string? BestPath => CheckpointDirectory is null ? null : Path.Combine(CheckpointDirectory, BestCheckpoint);

    CheckpointState Resume(OptimizerHelper optimizer)
    {
        var fresh = new CheckpointState(ModelSpec, data.Info, ConfigurationHash, 0, 0, double.NegativeInfinity, 0, []);
        if (LastPath is not { } last || !File.Exists(last)) return fresh;
        var state = Checkpoint.ReadState(last);
        if (state.ConfigurationHash != ConfigurationHash)
            throw new UserInputException(
                $"{CheckpointDirectory} holds a run of a different configuration; choose another output folder, or delete it to start over.");
        return Checkpoint.Load(last, model, optimizer);
    }

    void SaveCheckpoints(CheckpointState state, OptimizerHelper optimizer, bool improved)
    {
        if (CheckpointDirectory is null) return;
        Action? check = Fence is null ? null : Fence.Check;
        if (improved) Checkpoint.Save(BestPath!, state, model, optimizer: null, check);
        Checkpoint.Save(LastPath!, state, model, optimizer, check);
    }

    /// <summary>One pass over the shuffled training set; null when cancelled.</summary>
    (double Loss, Dictionary<string, double> Terms, double Accuracy, double Seconds, long Steps)? TrainEpoch(OptimizerHelper optimizer, CancellationToken cancellation)
    {
        model.train();
        var clock = Stopwatch.StartNew();
        long count = data.Train.Count;
        using var order = randperm(count).to(device);
        using var lossSum = zeros(1, device: device);
        using var correct = zeros(1, ScalarType.Int64, device);
        var termSums = loss.Weights.Keys.ToDictionary(k => k, _ => zeros(1, device: device));
        var step = new DistillationStep(model, teacher, loss, optimizer);
        try
        {
            for (long start = 0; start < count; start += options.BatchSize)
            {
                if (cancellation.IsCancellationRequested) return null;
                Fence?.Poll();
                using var scope = NewDisposeScope();
                long size = Math.Min(options.BatchSize, count - start);
                var indices = order.narrow(0, start, size);
                var (images, labels) = data.Train.Batch(indices);
                var (total, terms, logits) = step.Run(images, labels, indices);
                using (no_grad())
                {
                    lossSum.add_(total * size);
                    foreach (var (name, value) in terms) termSums[name].add_(value * size);
                    correct.add_(logits.argmax(1).eq(labels).sum());
                }
            }
            double meanLoss = lossSum.item<float>() / count;
            var meanTerms = termSums.ToDictionary(t => t.Key, t => (double)t.Value.item<float>() / count);
            double accuracy = (double)correct.item<long>() / count;
            return (meanLoss, meanTerms, accuracy, clock.Elapsed.TotalSeconds, (count + options.BatchSize - 1) / options.BatchSize);
        }
        finally
        {
            foreach (var sum in termSums.Values) sum.Dispose();
        }
    }

    /// <summary>Mean cross-entropy and accuracy of <c>model</c> on a whole set, in evaluation mode.</summary>
    public (double Loss, double Accuracy) Evaluate(ImageSet set) => Evaluation.Evaluate(model, set, options.EvaluationBatchSize);
}
