using Orchestrator.Distillation.SoftTargets;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Losses;

/// <summary><c>rkd-da</c>: both relational terms with Park et al.'s weights (25 for distance, 50 for angle: 1 and 2 here).</summary>
sealed class RkdDistanceAngleTerm : LossTerm
{
    public override string Name => "rkd-da";
    public override string Description => "relational KD, distance + 2 * angle (Park et al.'s weights 25 and 50)";
    public override int ListOrder => 70;
    public override LossSettings Reads => LossSettings.Feature;

    public override Tensor Compute(LossBatch batch, TeacherView? teacher)
    {
        var (student, teacherFeatures) = (batch.StudentFeatures, batch.TeacherFeatures(teacher!, Name));
        return DistillationLosses.RkdDistance(student, teacherFeatures) + 2 * DistillationLosses.RkdAngle(student, teacherFeatures);
    }
}
