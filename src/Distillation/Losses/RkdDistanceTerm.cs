using Orchestrator.Distillation.SoftTargets;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Losses;

/// <summary><c>rkd-d</c>: relational KD's distance term (Park et al. 2019), <see cref="DistillationLosses.RkdDistance"/>.</summary>
sealed class RkdDistanceTerm : LossTerm
{
    public override string Name => "rkd-d";
    public override string Description => "relational KD, distance";
    public override int ListOrder => 50;
    public override LossSettings Reads => LossSettings.Feature;

    public override Tensor Compute(LossBatch batch, TeacherView? teacher) =>
        DistillationLosses.RkdDistance(batch.StudentFeatures, batch.TeacherFeatures(teacher!, Name));
}
