using Orchestrator.Distillation.Models;
using Orchestrator.Distillation.SoftTargets;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Trials;

/// <summary>
/// Two training images that a trial runs through its models before training, to learn the shapes the loss must match:
/// embedding widths, feature-map channels. The models run in evaluation mode without gradients, so nothing they hold
/// (BatchNorm statistics) and no random stream changes.
/// </summary>
public sealed class ProbeBatch
{
    readonly Tensor images, indices;

    /// <param name="images">The training split's images (or a batch of them): the first two are the probe, at positions 0 and 1.</param>
    public ProbeBatch(Tensor images)
    {
        this.images = images.narrow(0, 0, 2);
        indices = arange(2L, device: images.device);
    }

    /// <summary>The student's embedding width.</summary>
    public long EmbeddingWidth(Classifier student) => Evaluated(student, () => student.Features(images.to(DeviceOf(student))).Embedding.shape[1]);

    /// <summary>Each teacher view's embedding width (an ensemble's combined embedding is its members' side by side).</summary>
    public IReadOnlyList<long> TeacherEmbeddingWidths(ITeacherOutputs teachers) => TeacherViews(teachers, v => v.Embedding!.shape[1]);

    /// <summary>The channels of the one teacher's feature maps at the loss's stages (feature losses have one teacher, online).</summary>
    public IReadOnlyList<long> TeacherMapWidths(ITeacherOutputs teachers) => TeacherViews(teachers, v => v.Maps.Select(m => m.shape[1]).ToList())[0];

    /// <summary>A hint regressor for <paramref name="student"/> from its channels at <paramref name="stages"/> to the teacher's.</summary>
    public HintRegressor HintRegressor(Classifier student, IReadOnlyList<string> stages, IReadOnlyList<long> teacherWidths)
    {
        var studentWidths = Evaluated(student, () => student.FeatureMaps(images.to(DeviceOf(student)), stages).Maps.Select(m => m.shape[1]).ToList());
        return new HintRegressor(stages.Select((stage, i) => (stage, studentWidths[i], teacherWidths[i])).ToList());
    }

    IReadOnlyList<T> TeacherViews<T>(ITeacherOutputs teachers, Func<TeacherView, T> measure)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        return teachers.For(images, indices, epoch: 0).Select(measure).ToList();
    }

    static T Evaluated<T>(Classifier model, Func<T> measure)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        bool wasTraining = model.training;
        model.eval();
        try { return measure(); }
        finally { model.train(wasTraining); }
    }

    static Device DeviceOf(Classifier model) => model.parameters().FirstOrDefault()?.device ?? CPU;
}
