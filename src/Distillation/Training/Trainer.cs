using System.Diagnostics;
using Orchestrator.Distillation.Data;
using Orchestrator.Distillation.Losses;
using Orchestrator.Distillation.Models;
using Orchestrator.Distillation.SoftTargets;
using Orchestrator.Distillation.Trials;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Training;

/// <summary>
/// One trial of a pack: its model (the ordinary single model that checkpoints, evaluation and the best weights use), its
/// loss and its training settings, where its checkpoints go and how its run ends early.
/// </summary>
public sealed record TrainerTrial(Classifier Model, LossRecipe Loss, TrainingOptions Options)
{
    /// <summary>Where last.ckpt (resume) and best.ckpt (chosen on validation) go; null keeps the best weights in memory only.</summary>
    public string? CheckpointDirectory { get; init; }
    /// <summary>Identifies the configuration: a checkpoint of another configuration is never resumed.</summary>
    public string ConfigurationHash { get; init; } = "";
    public Action<EpochMetrics>? OnEpoch { get; init; }
    /// <summary>The attempt this run is (a sweep's dispatch): checked every second and before each checkpoint; once a later attempt owns the folder the trial ends (Cancelled, with the reason) and writes nothing more.</summary>
    public AttemptFence? Fence { get; init; }
    /// <summary>Ends the trial after its batch, to resume later from the last epoch's checkpoint (<see cref="TrialStatus.Cancelled"/>).</summary>
    public CancellationToken Cancellation { get; init; }
    /// <summary>Ends it for good after its batch (its sweep stopped it): the epoch under way is dropped and the best
    /// checkpoint's test accuracy is the result (<see cref="TrialStatus.Stopped"/>); set before the run, no epoch is trained.</summary>
    public CancellationToken Stop { get; init; }
    /// <summary>Hears the trial's result as soon as it ends, while the rest of its pack may train on.</summary>
    public Action<TrainingResult>? OnEnd { get; init; }
}

/// <summary>
/// Trains a pack of trials of one architecture, data order and schedule together (<see cref="PackedClassifier"/>; a
/// single trial runs its model as it is, <see cref="UnfusedStudent"/>), optionally against teacher outputs (cached soft targets or frozen teachers) computed
/// once per batch for all. Each trial keeps the weights of its epoch with the best validation accuracy; its test set is
/// evaluated once, on those weights. Each trial ends on its own (patience, a non-finite loss, its stop or cancellation,
/// a later attempt): it leaves the pack and the others go on.
/// Reproducibility: the global RNGs (shuffle) are re-seeded from (seed, epoch) at the start of every epoch; a trial
/// alone draws its dropout masks from that stream after the shuffle, a trial in a pack from its own generator, which
/// continues that stream, as its triplet negatives do; the learning rate is a function of the epoch. So a trial resumed
/// from an epoch's checkpoint continues exactly as the uninterrupted run would have (in another pack, up to the
/// rounding of the fused kernels).
/// </summary>
public sealed class Trainer(IReadOnlyList<TrainerTrial> trials, ITeacherOutputs? teacher, DistillationData data, ModelSpec modelSpec, Device device)
{
    /// <summary>Trains every trial; the results are in the trials' order.</summary>
    public IReadOnlyList<TrainingResult> Train()
    {
        var options = trials[0].Options;
        if (trials.Any(t => t.Options.Epochs != options.Epochs || t.Options.BatchSize != options.BatchSize || t.Options.Seed != options.Seed
                            || t.Options.Augment != options.Augment))
            throw new ArgumentException("the trials of a pack must share epochs, batch size, seed and augmentation", nameof(trials));
        var runs = trials.Select(Start).ToList();
        try
        {
            int epochsDone = runs[0].Progress.EpochsDone;
            if (runs.Any(r => r.Progress.EpochsDone != epochsDone))
                throw new ArgumentException("the trials of a pack must resume from the same epoch", nameof(trials));
            var active = runs.Where(r => !r.Trial.Stop.IsCancellationRequested).ToList();
            foreach (var run in runs.Except(active))
            {
                run.Status = TrialStatus.Stopped;
                End(run);
            }
            if (active.Count > 0) TrainPack(active, epochsDone);
            foreach (var run in runs.Where(r => r.Result is null)) End(run);
            return runs.Select(r => r.Result!).ToList();
        }
        finally
        {
            foreach (var run in runs) run.Dispose();
        }
    }

    TrialRun Start(TrainerTrial trial)
    {
        trial.Model.to(device);
        var optimizer = Optimizers.Create(trial.Options.Optimizer, trial.Model.parameters());
        var progress = Resume(trial, optimizer);
        var best = new BestWeights(trial.Model);
        if (progress.EpochsDone > 0 && BestPath(trial) is { } bestPath) best.LoadFrom(bestPath, trial.Model, LastPath(trial)!, optimizer);
        return new TrialRun(trial, optimizer, progress, best);
    }

    void TrainPack(List<TrialRun> active, int epochsDone)
    {
        var options = active[0].Trial.Options;
        using var pack = IStudentPack.Of(active.Select(r => r.Trial.Model).ToList(), active[0].Trial.Loss.Stages);
        using var optimizer = new PackedOptimizer(pack, active.Select(r => r.Trial.Options.Optimizer).ToList());
        for (int k = 0; k < active.Count; k++) optimizer.CopyFrom(k, active[k].Trial.Model, active[k].Optimizer);
        using var loss = new PackedLoss(active.Select(r => r.Trial.Loss).ToList(), device, partialLabels: data.Labelled is not null);
        var members = new PackMembers(active, pack, optimizer, loss);

        for (int epoch = epochsDone; epoch < options.Epochs && members.Count > 0; epoch++)
        {
            optimizer.SetLearningRates(members.Runs.Select(r => RateOf(r, epoch)).ToList());
            members.Loss.SetEpoch(epoch); // the warm-up, like the learning rate, a function of the epoch: a resumed trial ramps the same
            long epochSeed = options.Seed * 1_000_003L + epoch + 1;
            manual_seed(epochSeed);
            var measured = TrainEpoch(members, epoch, epochSeed);
            // In pack order after the epoch: a trial that left during it is in neither.
            for (int k = 0; k < members.Count; k++)
            {
                var run = members.Runs[k];
                var (trainLoss, terms, trainAccuracy) = measured.PerTrial[k];
                EndEpoch(run, pack, optimizer, k, epoch, RateOf(run, epoch), trainLoss, terms, trainAccuracy, measured.Seconds, measured.Steps);
            }
            Leave(members, members.Runs.Where(r => r.Ended).ToList());
        }
    }

    /// <summary>The trial's learning rate in a 0-based epoch: a pure function of the epoch (its schedule), so a resumed run needs no scheduler state.</summary>
    static double RateOf(TrialRun run, int epoch) =>
        run.Trial.Options.Schedule.LearningRate(run.Trial.Options.Optimizer.LearningRate, epoch, run.Trial.Options.Epochs);

    /// <summary>After an epoch: a non-finite loss fails the trial; otherwise validation, checkpoints, metrics and patience.</summary>
    void EndEpoch(TrialRun run, IStudentPack pack, PackedOptimizer optimizer, int trial, int epoch, double rate, double trainLoss,
        Dictionary<string, double> terms, double trainAccuracy, double seconds, long steps)
    {
        if (!double.IsFinite(trainLoss))
        {
            (run.Status, run.Ended) = (TrialStatus.Failed, true);
            run.Failure = $"loss became {trainLoss} in epoch {epoch + 1} (terms: {string.Join(", ", terms.Select(t => $"{t.Key}={t.Value}"))}); " +
                          "lower the learning rate or the temperature, or check the loss weights.";
            return;
        }
        var model = run.Trial.Model;
        pack.CopyTo(trial, model);
        var (validationLoss, validationAccuracy) = Evaluation.Evaluate(model, data.Validation, run.Trial.Options.EvaluationBatchSize);
        var metrics = new EpochMetrics(epoch + 1, rate, trainLoss, terms, trainAccuracy, validationLoss, validationAccuracy,
            data.Train.Count / seconds, seconds, seconds / steps);
        run.History.Add(metrics);
        var progress = run.Progress;
        if (progress.Improves(validationAccuracy, validationLoss))
        {
            progress = progress with { BestEpoch = epoch + 1, BestValidationAccuracy = validationAccuracy, EpochsWithoutImprovement = 0 };
            run.Best.Capture(model);
        }
        else
        {
            progress = progress with { EpochsWithoutImprovement = progress.EpochsWithoutImprovement + 1 };
        }
        run.Progress = progress with { EpochsDone = epoch + 1, History = run.History.ToList() };
        try
        {
            optimizer.CopyTo(trial, model, run.Optimizer);
            SaveCheckpoints(run, improved: run.Progress.BestEpoch == epoch + 1);
            run.Trial.OnEpoch?.Invoke(metrics);
        }
        catch (SupersededException superseded)
        {
            (run.Status, run.Failure, run.Ended) = (TrialStatus.Cancelled, superseded.Message, true);
            return;
        }
        if (run.Trial.Options.Patience is { } patience && run.Progress.EpochsWithoutImprovement >= patience && epoch + 1 < run.Trial.Options.Epochs)
            (run.Status, run.Ended) = (TrialStatus.EarlyStopped, true);
    }

    /// <summary>Trials that ended leave the pack, and each reports its result now (<see cref="TrainerTrial.OnEnd"/>), while the others go on.</summary>
    void Leave(PackMembers members, IReadOnlyList<TrialRun> ended)
    {
        if (ended.Count == 0) return;
        members.Keep(members.Runs.Select((r, k) => (r, k)).Where(p => !ended.Contains(p.r)).Select(p => p.k).ToList());
        foreach (var run in ended) End(run);
    }

    /// <summary>The trial's result (its test accuracy measured on its best weights), given to its <see cref="TrainerTrial.OnEnd"/>.</summary>
    void End(TrialRun run)
    {
        run.Result = Finish(run);
        run.Trial.OnEnd?.Invoke(run.Result);
    }

    TrainingResult Finish(TrialRun run)
    {
        double? testAccuracy = null;
        if (run.Status is TrialStatus.Completed or TrialStatus.EarlyStopped or TrialStatus.Stopped && run.Progress.BestEpoch > 0)
        {
            run.Best.Restore(run.Trial.Model);
            testAccuracy = Evaluation.Evaluate(run.Trial.Model, data.Test, run.Trial.Options.EvaluationBatchSize).Accuracy;
        }
        return new TrainingResult(run.Status, run.Failure, run.History, run.Progress.BestEpoch, run.Progress.BestValidationAccuracy, testAccuracy);
    }

    static string? LastPath(TrainerTrial trial) => trial.CheckpointDirectory is null ? null : new TrialFolder(trial.CheckpointDirectory).LastCheckpoint;
    static string? BestPath(TrainerTrial trial) => trial.CheckpointDirectory is null ? null : new TrialFolder(trial.CheckpointDirectory).BestCheckpoint;

    CheckpointState Resume(TrainerTrial trial, OptimizerHelper optimizer)
    {
        var fresh = new CheckpointState(modelSpec, data.Info, trial.ConfigurationHash, 0, 0, double.NegativeInfinity, 0, [], data.Normalisation);
        if (LastPath(trial) is not { } last || !File.Exists(last)) return fresh;
        var state = Checkpoint.ReadState(last);
        if (state.ConfigurationHash != trial.ConfigurationHash)
            throw new UserInputException(
                $"{trial.CheckpointDirectory} holds a run of a different configuration; choose another output folder, or delete it to start over.");
        return Checkpoint.Load(last, trial.Model, optimizer) with { Normalisation = data.Normalisation }; // the same data: its hash is the configuration's
    }

    static void SaveCheckpoints(TrialRun run, bool improved)
    {
        if (run.Trial.CheckpointDirectory is null) return;
        Action? check = run.Trial.Fence is null ? null : run.Trial.Fence.Check;
        if (improved) Checkpoint.Save(BestPath(run.Trial)!, run.Progress, run.Trial.Model, optimizer: null, check);
        Checkpoint.Save(LastPath(run.Trial)!, run.Progress, run.Trial.Model, run.Optimizer, check);
    }

    /// <summary>What an epoch measured for each trial still in the pack at its end, in pack order.</summary>
    sealed record EpochMeasurement(IReadOnlyList<(double Loss, Dictionary<string, double> Terms, double Accuracy)> PerTrial, double Seconds, long Steps);

    /// <summary>
    /// One pass over the shuffled training set. A trial whose cancellation, stop or attempt ends it mid-epoch leaves the
    /// pack after its batch (its epoch is dropped); the others go on.
    /// </summary>
    EpochMeasurement TrainEpoch(PackMembers members, int epoch, long epochSeed)
    {
        var clock = Stopwatch.StartNew();
        long count = data.Train.Count;
        int batchSize = members.Runs[0].Trial.Options.BatchSize;
        // Under a label budget a trial without a teacher (the baseline) can learn from the labelled samples only: its
        // epoch draws as many of them (reshuffled on every pass) as the others' epoch has samples, for the same steps.
        bool labelsOnly = data.Labelled is not null && !members.Loss.NeedsTeacher;
        using var order = labelsOnly ? LabelledOrder(data.Labelled!, count) : Shuffled(count, device);
        long labelledSeen = labelsOnly ? count : data.LabelledCount;
        // One augmentation of the batch for the whole pack (pack-mates share it), a function of the sample and the epoch;
        // with stored views, the epoch's view, whose teacher outputs are in the store.
        var augment = members.Runs[0].Trial.Options.Augment;
        long augmentKey = teacher?.Views is { } views ? Augmentation.ViewKey(views.Of(epoch)) : Augmentation.EpochKey(members.Runs[0].Trial.Options.Seed, epoch);
        // Each trial's generator starts where the global stream is now, as one model alone draws from it (unfused).
        if (members.Pack.Fused) members.Pack.Generators = members.Runs.Select(_ => TrialGenerator(epochSeed)).ToList();
        members.StartSums(device);
        var step = new DistillationStep(members.Pack, teacher, members.Loss, members.Optimizer, epoch);
        for (long start = 0; start < count && members.Count > 0; start += batchSize)
        {
            Leave(members, members.Runs.Where(EndedMidEpoch).ToList());
            if (members.Count == 0) break;
            using var scope = NewDisposeScope();
            long size = Math.Min(batchSize, count - start);
            var indices = order.narrow(0, start, size);
            var (images, labels) = data.Train.Batch(indices);
            if (augment is not null) images = Augmentation.Apply(images, indices, augmentKey, augment, data.Black);
            var (total, terms, logits) = step.Run(images, labels, indices);
            members.Add(total, terms, logits, labels, size);
        }
        var perTrial = members.Means(count, labelledSeen);
        members.EndEpoch();
        return new EpochMeasurement(perTrial, clock.Elapsed.TotalSeconds, (count + batchSize - 1) / batchSize);
    }

    /// <summary>0..count-1 in a random order, on the device (the permutation made on the host is freed here, not by a finalizer).</summary>
    static Tensor Shuffled(long count, Device device)
    {
        using var scope = NewDisposeScope();
        return randperm(count).to(device).MoveToOuterDisposeScope();
    }

    /// <summary><paramref name="count"/> positions of labelled samples: passes over them, each in a new random order.</summary>
    static Tensor LabelledOrder(Tensor labelled, long count)
    {
        using var scope = NewDisposeScope();
        long size = labelled.shape[0];
        var passes = Enumerable.Range(0, (int)((count + size - 1) / size)).Select(_ => labelled.index_select(0, randperm(size).to(labelled.device))).ToList();
        return cat(passes, 0).narrow(0, 0, count).MoveToOuterDisposeScope();
    }

    /// <summary>Whether the trial's cancellation, stop or a later attempt ends it now; it ends with that status.</summary>
    static bool EndedMidEpoch(TrialRun run)
    {
        var trial = run.Trial;
        if (trial.Cancellation.IsCancellationRequested) run.Status = TrialStatus.Cancelled;
        else if (trial.Stop.IsCancellationRequested) run.Status = TrialStatus.Stopped;
        else
        {
            try
            {
                trial.Fence?.Poll();
                return false;
            }
            catch (SupersededException superseded)
            {
                (run.Status, run.Failure) = (TrialStatus.Cancelled, superseded.Message);
            }
        }
        run.Ended = true;
        return true;
    }

    /// <summary>
    /// A trial's generator for the epoch: on the CPU a copy of the global generator's state (after the shuffle), so a
    /// pack of one draws exactly what the global generator would; on a GPU a generator seeded like that device's
    /// default one (the shuffle draws on the CPU), for the same reason.
    /// </summary>
    Generator TrialGenerator(long epochSeed)
    {
        if (device.type != DeviceType.CPU) return new Generator((ulong)epochSeed, device);
        var generator = new Generator(0, device);
        using var state = random.get_rng_state();
        generator.set_state(state);
        return generator;
    }
}
