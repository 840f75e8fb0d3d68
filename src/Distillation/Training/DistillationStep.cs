using Orchestrator.Distillation.Losses;
using Orchestrator.Distillation.Models;
using Orchestrator.Distillation.SoftTargets;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Training;

/// <summary>
/// One optimisation step of a pack: the teachers' outputs for the batch once (from the cache, or a forward of frozen
/// teachers), the pack's forward, every trial's weighted loss, backward of their sum (each trial's weights get exactly
/// their own trial's gradient) and the optimizer step. Call it inside a dispose scope; the returned tensors belong to that scope.
/// </summary>
/// <param name="epoch">The epoch (0-based) the step trains in: which stored view's teacher outputs, when there are views.</param>
public sealed class DistillationStep(IStudentPack students, ITeacherOutputs? teacher, PackedLoss loss, PackedOptimizer optimizer, int epoch)
{
    /// <param name="indices">The batch's positions in the training split, which address cached teacher outputs.</param>
    /// <returns>Each trial's total [K] and terms [K], and the logits [K, B, classes].</returns>
    public (Tensor Total, Dictionary<string, Tensor> Terms, Tensor Logits) Run(Tensor images, Tensor labels, Tensor indices)
    {
        var teachers = teacher is not null && loss.NeedsTeacher ? teacher.For(images, indices, epoch) : [];
        var (logits, embedding) = students.Features(images, training: true);
        var (total, terms) = loss.Compute(labels, logits, embedding, teachers, students.Generators, students.Maps, students.Hints);
        optimizer.ZeroGrad();
        total.sum().backward();
        optimizer.Step();
        return (total, terms, logits);
    }
}
