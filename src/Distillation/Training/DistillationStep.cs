using Orchestrator.Distillation.Losses;
using Orchestrator.Distillation.Models;
using Orchestrator.Distillation.SoftTargets;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Training;

/// <summary>
/// One optimisation step: the teachers' outputs for the batch (from the cache, or a forward of frozen teachers), the student's forward,
/// the weighted loss, backward and the optimizer step. Call it inside a dispose scope; the returned tensors
/// belong to that scope.
/// </summary>
public sealed class DistillationStep(Classifier student, ITeacherOutputs? teacher, LossRecipe loss, OptimizerHelper optimizer)
{
    /// <param name="indices">The batch's positions in the training split, which address cached teacher outputs.</param>
    public (Tensor Total, Dictionary<string, Tensor> Terms, Tensor Logits) Run(Tensor images, Tensor labels, Tensor indices)
    {
        var teachers = teacher is not null && loss.NeedsTeacher ? teacher.For(images, indices) : [];
        var (logits, embedding) = student.Features(images);
        var (total, terms) = loss.Compute(labels, logits, embedding, teachers);
        optimizer.zero_grad();
        total.backward();
        optimizer.step();
        return (total, terms, logits);
    }
}
