using Orchestrator.Distillation.SoftTargets;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Losses;

/// <summary><c>hinton</c>: Hinton et al.'s KD (2015), <see cref="DistillationLosses.Hinton"/>.</summary>
sealed class HintonTerm : LossTerm
{
    public override string Name => "hinton";
    public override string Description => "KL(softmax(t/T) || softmax(s/T)) * T^2";
    public override int ListOrder => 10;
    public override IReadOnlyList<string> OtherNames => ["kl", "kd", "kl_div", "kldiv"];
    public override LossSettings Reads => LossSettings.Temperature | LossSettings.Standardize;

    public override Tensor Compute(LossBatch batch, TeacherView? teacher)
    {
        var (student, teacherLogits) = batch.LogitsToSoften(teacher!);
        return DistillationLosses.Hinton(student, teacherLogits, batch.Temperature);
    }
}
