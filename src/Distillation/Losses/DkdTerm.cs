using Orchestrator.Distillation.SoftTargets;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Losses;

/// <summary>
/// <c>dkd</c>: Decoupled KD (Zhao et al., CVPR 2022), <see cref="DistillationLosses.Dkd"/>: alpha weighs the target
/// class's term, beta the non-target classes'; mdistiller's defaults (alpha 1, beta 8, with T = 4 and a 20-epoch
/// warm-up in its CIFAR recipe). A sample without a label (a label budget) takes the teacher's prediction as its target.
/// </summary>
sealed class DkdTerm : LossTerm
{
    public override string Name => "dkd";
    public override string Description => "alpha * KL over (target, rest) + beta * KL over the non-target classes, at T, * T^2";
    public override int ListOrder => 25;
    public override IReadOnlyList<string> OtherNames => ["decoupled", "decoupled-kd"];
    public override LossSettings Reads => LossSettings.Temperature | LossSettings.Standardize;
    public override IReadOnlyDictionary<string, double> Options { get; } = new Dictionary<string, double> { ["alpha"] = 1, ["beta"] = 8 };

    public override Tensor Compute(LossBatch batch, TeacherView? teacher)
    {
        var (student, teacherLogits) = batch.LogitsToSoften(teacher!);
        return DistillationLosses.Dkd(student, teacherLogits, batch.ClassesOf(teacher!.Logits), batch.Temperature,
            batch.Option(this, "alpha"), batch.Option(this, "beta"));
    }
}
