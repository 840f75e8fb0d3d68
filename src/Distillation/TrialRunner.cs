using Orchestrator.Distillation.Configuration;
using Orchestrator.Distillation.Data;
using Orchestrator.Distillation.Losses;
using Orchestrator.Distillation.Models;
using Orchestrator.Distillation.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Distillation;

/// <summary>What a trial produced, with the facts a report needs beside the training result.</summary>
public sealed record TrialOutcome(TrainingResult Result, string Device, long Parameters, long? TeacherParameters, double? TeacherTestAccuracy,
    string DatasetFingerprint, string ConfigurationHash);

/// <summary>Runs one <see cref="TrialConfig"/>: loads the data and the teacher, builds the model, trains it with checkpoints in one folder.</summary>
public static class TrialRunner
{
    public static TrialOutcome Run(TrialConfig config, string outputDirectory, Action<EpochMetrics>? onEpoch = null,
        Action<string>? log = null, CancellationToken cancellation = default)
    {
        if (config.Loss.NeedsTeacher && config.TeacherCheckpoint is null)
            throw new UserInputException(
                $"trial '{config.Name}': the loss uses {string.Join(", ", config.Loss.Weights.Keys.Where(k => k != LossRecipe.CrossEntropyTerm))}, which need a teacher; " +
                "add teacher: <path to a teacher's best.ckpt> to the trial file, or pass --teacher.");
        if (config.TeacherCheckpoint is { } path && !File.Exists(path))
            throw new UserInputException($"teacher checkpoint {path} does not exist; train the teacher first (orchestrator trial <teacher.yaml>).");
        var device = Devices.Resolve(config.Device);
        using var data = DistillationData.Load(config.Data, device);
        log?.Invoke($"dataset {data.Info.Name}: {data.Train.Count} train, {data.Validation.Count} validation, {data.Test.Count} test samples on {device}");

        manual_seed(config.Training.Seed);
        using var model = ModelRegistry.Create(config.Model, data.Info);
        log?.Invoke($"model {config.Model.Name}: {model.ParameterCount:N0} parameters");

        using var teacher = config.TeacherCheckpoint is null ? null : LoadTeacher(config.TeacherCheckpoint, data.Info, device);
        double? teacherAccuracy = null;
        if (teacher is not null)
        {
            teacherAccuracy = Evaluation.Evaluate(teacher, data.Test, config.Training.EvaluationBatchSize).Accuracy;
            log?.Invoke($"teacher {config.TeacherCheckpoint}: {teacher.ParameterCount:N0} parameters, test accuracy {teacherAccuracy:P2}");
            CheckFeatureSizes(config.Loss, model.to(device), teacher, data.Validation);
        }

        string configurationHash = config.Hash();
        var trainer = new Trainer(model, teacher, config.Loss, data, config.Training, device)
        {
            CheckpointDirectory = outputDirectory,
            ConfigurationHash = configurationHash,
            ModelSpec = config.Model,
            OnEpoch = onEpoch,
        };
        var result = trainer.Run(cancellation);
        return new TrialOutcome(result, device.ToString(), model.ParameterCount, teacher?.ParameterCount, teacherAccuracy, data.Fingerprint, configurationHash);
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
    static void CheckFeatureSizes(LossRecipe loss, Classifier student, Classifier teacher, ImageSet sample)
    {
        if (loss.Feature != RelationFeature.Embedding || !loss.Weights.ContainsKey("triplet")) return;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        bool wasTraining = student.training;
        student.eval();
        var images = sample.Images.narrow(0, 0, 2);
        long studentWidth = student.Features(images).Embedding.shape[1], teacherWidth = teacher.Features(images).Embedding.shape[1];
        student.train(wasTraining);
        if (studentWidth != teacherWidth)
            throw new UserInputException($"loss.features: embedding: triplet KD compares teacher and student embeddings directly, but they are {teacherWidth} and {studentWidth} wide; use features: logits.");
    }
}
