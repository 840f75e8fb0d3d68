using Orchestrator.Distillation.SoftTargets;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Losses;

/// <summary><c>soft-ce</c>: cross-entropy against the teacher's softened outputs, <see cref="DistillationLosses.SoftCrossEntropy"/>.</summary>
sealed class SoftCrossEntropyTerm : LossTerm
{
    public override string Name => "soft-ce";
    public override string Description => "cross-entropy against softmax(t/T), * T^2";
    public override int ListOrder => 20;
    public override LossSettings Reads => LossSettings.Temperature | LossSettings.Standardize;

    public override Tensor Compute(LossBatch batch, TeacherView? teacher)
    {
        var (student, teacherLogits) = batch.LogitsToSoften(teacher!);
        return DistillationLosses.SoftCrossEntropy(student, teacherLogits, batch.Temperature);
    }
}
