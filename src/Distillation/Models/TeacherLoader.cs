using Orchestrator.Distillation.Data;
using Orchestrator.Distillation.SoftTargets;
using Orchestrator.Distillation.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Models;

/// <summary>Teachers as trials and soft-target jobs load them: frozen, in evaluation mode, checked against the data they will see.</summary>
public static class TeacherLoader
{
    /// <summary>A teacher for <paramref name="data"/>, frozen in evaluation mode: a checkpoint written by a trial, or a TorchScript file fed as it expects.</summary>
    public static Classifier Load(TeacherSource teacher, DistillationData data, Device device) => teacher.TorchScript is { } expects
        ? new TorchScriptTeacher(teacher.Checkpoint, data.Normalisation, expects, device, teacher.Stages)
        : Load(teacher.Checkpoint, data.Info, device);

    /// <summary>Rebuilds a model from a checkpoint written by a trial, frozen in evaluation mode.</summary>
    public static Classifier Load(string checkpoint, DatasetInfo data, Device device)
    {
        var state = Checkpoint.ReadState(checkpoint);
        if (state.Dataset.Name != data.Name || state.Dataset.Features != data.Features)
            throw new UserInputException($"teacher {checkpoint} was trained on '{state.Dataset.Name}' ({state.Dataset.Channels}x{state.Dataset.Height}x{state.Dataset.Width}), " +
                                         $"this trial uses '{data.Name}' ({data.Channels}x{data.Height}x{data.Width}).");
        var teacher = ModelRegistry.Create(state.Model, data);
        Checkpoint.LoadModel(checkpoint, teacher);
        teacher.to(device).eval();
        foreach (var parameter in teacher.parameters()) parameter.requires_grad = false;
        return teacher;
    }
}
