using Orchestrator.Distillation.Losses;
using Orchestrator.Distillation.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Training;

/// <summary>
/// One optimisation step: the frozen teacher's forward (only when the loss needs it), the student's forward,
/// the weighted loss, backward and the optimizer step. Call it inside a dispose scope; the returned tensors
/// belong to that scope.
/// </summary>
public sealed class DistillationStep(Classifier student, Classifier? teacher, LossRecipe loss, OptimizerHelper optimizer)
{
    public (Tensor Total, Dictionary<string, Tensor> Terms, Tensor Logits) Run(Tensor images, Tensor labels)
    {
        Tensor? teacherLogits = null, teacherEmbedding = null;
        if (teacher is not null && loss.NeedsTeacher)
            using (no_grad()) (teacherLogits, teacherEmbedding) = teacher.Features(images);
        var (logits, embedding) = student.Features(images);
        var (total, terms) = loss.Compute(labels, logits, embedding, teacherLogits, teacherEmbedding);
        optimizer.zero_grad();
        total.backward();
        optimizer.step();
        return (total, terms, logits);
    }
}
