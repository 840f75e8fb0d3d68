using Orchestrator.Distillation.SoftTargets;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Losses;

/// <summary>
/// <c>dist</c>: DIST (Huang et al., NeurIPS 2022), <see cref="DistillationLosses.Dist"/>: beta weighs the inter-class
/// relation (each sample's classes), gamma the intra-class relation (each class over the batch), at the temperature
/// tau (the loss's <c>temperature</c>); the authors' defaults, beta 1 and gamma 1 (their CIFAR recipe: T = 4).
/// </summary>
sealed class DistTerm : LossTerm
{
    public override string Name => "dist";
    public override string Description => "beta * (1 - Pearson over classes) + gamma * (1 - Pearson over the batch) of softmax(z/T), * T^2";
    public override int ListOrder => 26;
    public override LossSettings Reads => LossSettings.Temperature | LossSettings.Standardize;
    public override IReadOnlyDictionary<string, double> Options { get; } = new Dictionary<string, double> { ["beta"] = 1, ["gamma"] = 1 };

    public override Tensor Compute(LossBatch batch, TeacherView? teacher)
    {
        var (student, teacherLogits) = batch.LogitsToSoften(teacher!);
        return DistillationLosses.Dist(student, teacherLogits, batch.Temperature, batch.Option(this, "beta"), batch.Option(this, "gamma"));
    }
}
