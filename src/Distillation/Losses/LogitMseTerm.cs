using Orchestrator.Distillation.SoftTargets;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Losses;

/// <summary><c>logit-mse</c>: logit matching (Ba &amp; Caruana 2014), <see cref="DistillationLosses.LogitMse"/>.</summary>
sealed class LogitMseTerm : LossTerm
{
    public override string Name => "logit-mse";
    public override string Description => "mean squared error between logits";
    public override int ListOrder => 30;

    public override Tensor Compute(LossBatch batch, TeacherView? teacher) => DistillationLosses.LogitMse(batch.Logits, teacher!.Logits);
}
