using Orchestrator.Distillation.Configuration;
using Orchestrator.Distillation.Data;
using Orchestrator.Distillation.Losses;
using Orchestrator.Distillation.Models;
using Orchestrator.Distillation.SoftTargets;
using Orchestrator.Distillation.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Trials;

/// <summary>
/// Runs <see cref="TrialConfig"/>s: loads the data and the teachers' outputs, builds the models, trains them with
/// checkpoints in their folders; trials that share a <see cref="PackSizing.Key"/> train as one pack.
/// </summary>
public static class TrialRunner
{
    /// <param name="softTargetDirectory">The soft-target store; default <see cref="SoftTargetStore.DefaultDirectory"/>.</param>
    /// <param name="fence">The sweep's attempt this run is (<see cref="TrainerTrial.Fence"/>); null for a trial run by hand.</param>
    /// <param name="stop">Its sweep stopped it (<see cref="TrainerTrial.Stop"/>).</param>
    public static TrainingResult Run(TrialConfig config, string outputDirectory, Action<EpochMetrics>? onEpoch = null,
        Action<string>? log = null, CancellationToken cancellation = default, string? softTargetDirectory = null, AttemptFence? fence = null,
        CancellationToken stop = default) =>
        RunPack([new TrialRequest(config, outputDirectory) { OnEpoch = onEpoch, Cancellation = cancellation, Fence = fence, Stop = stop }], log, softTargetDirectory)[0];

    /// <summary>
    /// Trains trials that share a <see cref="PackSizing.Key"/> as one pack: the data and the teachers are loaded once,
    /// each trial resumes from its own folder's last checkpoint (trials at different epochs train as packs one after
    /// the other). The outcomes are in the trials' order; <paramref name="ended"/> hears each as soon as its trial ends,
    /// while the rest of its pack may train on.
    /// </summary>
    public static IReadOnlyList<TrainingResult> RunPack(IReadOnlyList<TrialRequest> trials, Action<string>? log = null, string? softTargetDirectory = null,
        Action<TrialRequest, TrainingResult>? ended = null)
    {
        var config = trials[0].Config;
        string key = PackSizing.Key(config);
        if (trials.Any(t => PackSizing.Key(t.Config) != key))
            throw new ArgumentException("the trials of a pack must share model, data, batch size, epochs, seed, optimizer, loss terms and teachers", nameof(trials));
        if (config.Loss.NeedsTeacher && config.Teacher is null)
            throw new UserInputException(
                $"trial '{config.Name}': the loss uses {string.Join(", ", config.Loss.Weights.Keys.Where(k => k != LossRecipe.CrossEntropyTerm))}, which need a teacher; " +
                "add teacher: <path to a teacher's best.ckpt> to the trial file, or pass --teacher.");
        // Each teacher checkpoint is read and hashed once: for the runs' identities and for the soft-target key.
        var teacherHashes = config.TeacherHashes();
        var device = Devices.Resolve(config.Device);
        using var data = DistillationData.Load(config.Data, device);
        log?.Invoke($"dataset {data.Info.Name}: {data.Train.Count} train, {data.Validation.Count} validation, {data.Test.Count} test samples on {device}");

        var teachers = teacherHashes is not null
            ? LoadTeachers(config.Teacher!, teacherHashes, config, data, device, softTargetDirectory ?? SoftTargetStore.DefaultDirectory, log)
            : null;
        using var outputs = teachers?.Outputs;
        var probe = new ProbeBatch(data.Train.Images);
        var teacherWidths = config.Loss.HasHints ? probe.TeacherMapWidths(teachers!.Outputs) : null;
        var models = trials.Select(t =>
        {
            // The regressor's initial weights draw after the model's, from the trial's seed: a trial without one is as before.
            manual_seed(t.Config.Training.Seed);
            var model = ModelRegistry.Create(t.Config.Model, data.Info);
            if (teacherWidths is not null) model.AttachHint(probe.HintRegressor(model, t.Config.Loss.Stages!, teacherWidths));
            return model;
        }).ToList();
        try
        {
            log?.Invoke($"model {config.Model.Name}: {models[0].ParameterCount:N0} parameters{(trials.Count > 1 ? $"; a pack of {trials.Count} trials" : "")}" +
                        (teacherWidths is not null ? $"; a hint regressor of {models[0].Hint!.parameters().Sum(p => p.numel()):N0} parameters trains with each" : ""));
            if (teachers is not null)
                CheckFeatureSizes(config.Loss, models[0].to(device), teachers.Outputs, probe);

            var outcomes = new TrainingResult[trials.Count];
            ModelCost? cost = null; // one architecture on one device: measured once, for the pack's first trial to end trained
            var planned = trials.Select((t, k) =>
            {
                string hash = t.Config.Hash(teacherHashes);
                return new TrainerTrial(models[k], t.Config.Loss, t.Config.Training)
                {
                    CheckpointDirectory = t.OutputDirectory,
                    ConfigurationHash = hash,
                    OnEpoch = t.OnEpoch,
                    Fence = t.Fence,
                    Cancellation = t.Cancellation,
                    Stop = t.Stop,
                    OnEnd = result =>
                    {
                        bool trained = result.BestEpoch > 0 && result.Status is not (TrialStatus.Failed or TrialStatus.Cancelled);
                        if (trained) cost ??= ModelCost.Measure(models[k], data.Info, device, result.Epochs.Sum(e => e.Seconds));
                        outcomes[k] = result with
                        {
                            Device = device.ToString(), Parameters = models[k].ParameterCount, Cost = trained ? cost : null, TeacherParameters = teachers?.Parameters,
                            TeacherTestAccuracy = teachers?.TestAccuracy, DatasetFingerprint = data.Fingerprint, ConfigurationHash = hash,
                            SoftTargets = teachers?.SoftTargets ?? "", Notes = teachers?.Notes ?? [],
                        };
                        ended?.Invoke(t, outcomes[k]);
                    },
                };
            }).ToList();
            // A pack trains from one epoch: trials that resume from different epochs train as one pack per epoch.
            PackSizing.HalvingOnOutOfMemory(Enumerable.Range(0, trials.Count).ToList(), members =>
            {
                foreach (var group in members.GroupBy(k => EpochsDone(planned[k])).OrderBy(g => g.Key))
                    new Trainer(group.Select(k => planned[k]).ToList(), teachers?.Outputs, data, config.Model, device).Train();
            }, k => outcomes[k] is not null, log);
            return outcomes;
        }
        finally
        {
            foreach (var model in models) model.Dispose();
        }
    }

    /// <summary>How many epochs the trial's last checkpoint holds (0 without one, or with one of another configuration, which <see cref="Trainer"/> refuses).</summary>
    static int EpochsDone(TrainerTrial trial)
    {
        string? last = trial.CheckpointDirectory is null ? null : Path.Combine(trial.CheckpointDirectory, TrialFolder.LastCheckpointFile);
        if (last is null || !File.Exists(last)) return 0;
        var state = Checkpoint.ReadState(last);
        return state.ConfigurationHash == trial.ConfigurationHash ? state.EpochsDone : 0;
    }

    sealed record Teachers(ITeacherOutputs Outputs, long Parameters, double TestAccuracy, string SoftTargets, IReadOnlyList<string> Notes);

    /// <summary>The teachers' outputs for training: the cached artifact (generated first when missing), or the teachers themselves for online mode.</summary>
    static Teachers LoadTeachers(TeacherEnsemble ensemble, IReadOnlyList<string> teacherHashes, TrialConfig config, DistillationData data, Device device,
        string softTargetDirectory, Action<string>? log)
    {
        bool embeddings = config.Loss.NeedsTeacherEmbedding;
        string what = ensemble.Members.Count == 1 ? $"teacher {ensemble.Members[0].Checkpoint}" : $"ensemble of {ensemble.Members.Count} teachers ({TeacherEnsemble.NameOf(ensemble.Aggregation)})";
        if (ensemble.Mode == SoftTargetMode.Cached)
        {
            var loaded = new SoftTargetBuilder(new SoftTargetStore(softTargetDirectory), data, device, log).LoadForTraining(ensemble, embeddings, teacherHashes);
            var accuracy = loaded.Manifest.Ensemble!;
            log?.Invoke($"{what}: {accuracy.Parameters:N0} parameters, test accuracy {accuracy.Test:P2}; soft targets {loaded.Key} from {softTargetDirectory}");
            return new Teachers(new CachedTeacherOutputs(loaded.Train, ensemble.Views), accuracy.Parameters, accuracy.Test, loaded.Key, loaded.Notes);
        }
        var members = ensemble.Members.Select(m => TeacherLoader.Load(m, data, device)).ToList();
        var stages = config.Loss.Stages ?? [];
        if (members.FirstOrDefault(m => stages.Except(m.Stages).Any()) is { } lacking)
        {
            foreach (var member in members) member.Dispose();
            throw new UserInputException($"{what} has no {string.Join(", ", stages.Except(lacking.Stages))} for loss.stages " +
                                         $"({(lacking.Stages.Count == 0 ? "it names no stages: the zoo's models do" : $"its stages: {string.Join(", ", lacking.Stages)}")}).");
        }
        var online = new OnlineTeacherOutputs(members, ensemble, embeddings, stages);
        double test = online.Accuracy(data.Test, config.Training.EvaluationBatchSize);
        log?.Invoke($"{what}: {online.Parameters:N0} parameters, test accuracy {test:P2}; teacher outputs computed online every step");
        return new Teachers(online, online.Parameters, test, "online", []);
    }

    /// <summary>Triplet KD subtracts teacher from student features, so on embeddings both must have the same width.</summary>
    static void CheckFeatureSizes(LossRecipe loss, Classifier student, ITeacherOutputs teachers, ProbeBatch probe)
    {
        if (!loss.NeedsTeacherEmbedding || !loss.Weights.ContainsKey("triplet")) return;
        long studentWidth = probe.EmbeddingWidth(student);
        foreach (long teacherWidth in probe.TeacherEmbeddingWidths(teachers))
            if (teacherWidth != studentWidth)
                throw new UserInputException($"loss.features: embedding: triplet KD compares teacher and student embeddings directly, but they are " +
                                             $"{teacherWidth} and {studentWidth} wide (an ensemble's combined embedding is its members' side by side); use features: logits.");
    }
}
