using Orchestrator.Distillation.Configuration;
using Orchestrator.Distillation.Data;
using Orchestrator.Distillation.Losses;
using Orchestrator.Distillation.Models;
using Orchestrator.Distillation.SoftTargets;
using Orchestrator.Distillation.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Distillation;

/// <summary>What a trial produced, with the facts a report needs beside the training result.</summary>
/// <param name="SoftTargets">The soft-target artifact the student read (its key), "online", or empty without a teacher.</param>
/// <param name="Notes">Things worth reporting that did not stop the run (a rejected soft-target file, generated again).</param>
public sealed record TrialOutcome(TrainingResult Result, string Device, long Parameters, long? TeacherParameters, double? TeacherTestAccuracy,
    string DatasetFingerprint, string ConfigurationHash, string SoftTargets, IReadOnlyList<string> Notes);

/// <summary>Runs one <see cref="TrialConfig"/>: loads the data and the teachers' outputs, builds the model, trains it with checkpoints in one folder.</summary>
public static class TrialRunner
{
    /// <param name="softTargetDirectory">The soft-target store; default <see cref="SoftTargetStore.DefaultDirectory"/>.</param>
    /// <param name="fence">The sweep's attempt this run is (<see cref="Trainer.Fence"/>); null for a trial run by hand.</param>
    /// <param name="stop">Its sweep stopped it (<see cref="Trainer.Run"/>).</param>
    public static TrialOutcome Run(TrialConfig config, string outputDirectory, Action<EpochMetrics>? onEpoch = null,
        Action<string>? log = null, CancellationToken cancellation = default, string? softTargetDirectory = null, AttemptFence? fence = null,
        CancellationToken stop = default)
    {
        if (config.Loss.NeedsTeacher && config.Teacher is null)
            throw new UserInputException(
                $"trial '{config.Name}': the loss uses {string.Join(", ", config.Loss.Weights.Keys.Where(k => k != LossRecipe.CrossEntropyTerm))}, which need a teacher; " +
                "add teacher: <path to a teacher's best.ckpt> to the trial file, or pass --teacher.");
        // Each teacher checkpoint is read and hashed once: for the run's identity and for its soft-target key.
        var teacherHashes = config.TeacherHashes();
        string configurationHash = config.Hash(teacherHashes);
        var device = Devices.Resolve(config.Device);
        using var data = DistillationData.Load(config.Data, device);
        log?.Invoke($"dataset {data.Info.Name}: {data.Train.Count} train, {data.Validation.Count} validation, {data.Test.Count} test samples on {device}");

        manual_seed(config.Training.Seed);
        using var model = ModelRegistry.Create(config.Model, data.Info);
        log?.Invoke($"model {config.Model.Name}: {model.ParameterCount:N0} parameters");

        var teachers = teacherHashes is not null
            ? LoadTeachers(config.Teacher!, teacherHashes, config, data, device, softTargetDirectory ?? SoftTargetStore.DefaultDirectory, log)
            : null;
        using var outputs = teachers?.Outputs;
        if (teachers is not null)
            CheckFeatureSizes(config.Loss, model.to(device), teachers.Outputs, data.Train);

        var trial = new TrainerTrial(model, config.Loss, config.Training)
        {
            CheckpointDirectory = outputDirectory,
            ConfigurationHash = configurationHash,
            OnEpoch = onEpoch,
            Fence = fence,
            Cancellation = cancellation,
            Stop = stop,
        };
        var result = new Trainer([trial], teachers?.Outputs, data, config.Model, device).Train()[0];
        // A later attempt owns the folder: this one reports nothing (as TrialExecution expects of a superseded run).
        if (fence is not null && result.Status == TrialStatus.Cancelled && result.FailureReason is not null) fence.Check();
        return new TrialOutcome(result, device.ToString(), model.ParameterCount, teachers?.Parameters, teachers?.TestAccuracy, data.Fingerprint,
            configurationHash, teachers?.SoftTargets ?? "", teachers?.Notes ?? []);
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
            return new Teachers(new CachedTeacherOutputs(loaded.Train), accuracy.Parameters, accuracy.Test, loaded.Key, loaded.Notes);
        }
        var online = new OnlineTeacherOutputs(ensemble.Members.Select(m => LoadTeacher(m.Checkpoint, data.Info, device)).ToList(), ensemble, embeddings);
        double test = online.Accuracy(data.Test, config.Training.EvaluationBatchSize);
        log?.Invoke($"{what}: {online.Parameters:N0} parameters, test accuracy {test:P2}; teacher outputs computed online every step");
        return new Teachers(online, online.Parameters, test, "online", []);
    }

    /// <summary>Rebuilds a model from a checkpoint written by a trial, frozen in evaluation mode.</summary>
    public static Classifier LoadTeacher(string checkpoint, DatasetInfo data, Device device)
    {
        var state = Checkpoint.ReadState(checkpoint);
        if (state.Dataset.Name != data.Name || state.Dataset.Features != data.Features)
            throw new UserInputException($"teacher {checkpoint} was trained on '{state.Dataset.Name}' ({state.Dataset.Channels}x{state.Dataset.Height}x{state.Dataset.Width}), " +
                                         $"this trial uses '{data.Name}' ({data.Channels}x{data.Height}x{data.Width}).");
        var teacher = ModelRegistry.Create(state.Model, data);
        Checkpoint.Load(checkpoint, teacher);
        teacher.to(device).eval();
        foreach (var parameter in teacher.parameters()) parameter.requires_grad = false;
        return teacher;
    }

    /// <summary>Triplet KD subtracts teacher from student features, so on embeddings both must have the same width.</summary>
    static void CheckFeatureSizes(LossRecipe loss, Classifier student, ITeacherOutputs teachers, ImageSet sample)
    {
        if (!loss.NeedsTeacherEmbedding || !loss.Weights.ContainsKey("triplet")) return;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        bool wasTraining = student.training;
        student.eval();
        var indices = arange(2L, device: sample.Images.device);
        var images = sample.Images.index_select(0, indices);
        long studentWidth = student.Features(images).Embedding.shape[1];
        student.train(wasTraining);
        foreach (var teacher in teachers.For(images, indices))
            if (teacher.Embedding!.shape[1] != studentWidth)
                throw new UserInputException($"loss.features: embedding: triplet KD compares teacher and student embeddings directly, but they are " +
                                             $"{teacher.Embedding.shape[1]} and {studentWidth} wide (an ensemble's combined embedding is its members' side by side); use features: logits.");
    }
}
