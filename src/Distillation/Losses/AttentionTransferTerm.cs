using Orchestrator.Distillation.SoftTargets;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Losses;

/// <summary>
/// <c>at</c>: attention transfer (Zagoruyko &amp; Komodakis, ICLR 2017), <see cref="DistillationLosses.AttentionTransfer"/>,
/// over the stages in <c>loss.stages</c> (default: every stage both models have). CRD weighs it 1000 beside CE.
/// </summary>
sealed class AttentionTransferTerm : LossTerm
{
    public override string Name => "at";
    public override string Description => "sum over stages of mean (a(s) - a(t))^2, a = normalised channel-mean of squared feature maps";
    public override int ListOrder => 80;
    public override IReadOnlyList<string> OtherNames => ["attention", "attention-transfer"];
    public override LossSettings Reads => LossSettings.Stages;

    public override Tensor Compute(LossBatch batch, TeacherView? teacher) => DistillationLosses.AttentionTransfer(batch.StudentMaps, teacher!.Maps);
}
