using Orchestrator.Distillation.SoftTargets;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Losses;

/// <summary><c>rkd-a</c>: relational KD's angle term (Park et al. 2019), <see cref="DistillationLosses.RkdAngle"/>.</summary>
sealed class RkdAngleTerm : LossTerm
{
    public override string Name => "rkd-a";
    public override string Description => "relational KD, angle";
    public override int ListOrder => 60;
    public override LossSettings Reads => LossSettings.Feature;

    public override Tensor Compute(LossBatch batch, TeacherView? teacher) =>
        DistillationLosses.RkdAngle(batch.StudentFeatures, batch.TeacherFeatures(teacher!, Name));
}
