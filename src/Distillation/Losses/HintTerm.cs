using Orchestrator.Distillation.SoftTargets;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Losses;

/// <summary>
/// <c>hint</c>: FitNets (Romero et al., ICLR 2015), <see cref="DistillationLosses.Hint"/>: the student's feature maps at
/// each of <c>loss.stages</c>, through a regressor learned with it (<see cref="Models.HintRegressor"/>), against the
/// teacher's. FitNets guided one middle stage (<c>stages: [stage2]</c>); CRD and mdistiller weigh it 100 beside CE.
/// </summary>
sealed class HintTerm : LossTerm
{
    public const string TermName = "hint";
    public override string Name => TermName;
    public override string Description => "sum over stages of mean (r(s) - t)^2, r a learned 1x1 convolution + BN + ReLU to the teacher's channels";
    public override int ListOrder => 75;
    public override IReadOnlyList<string> OtherNames => ["fitnet", "fitnets", "hints"];
    public override LossSettings Reads => LossSettings.Stages;

    public override Tensor Compute(LossBatch batch, TeacherView? teacher) => DistillationLosses.Hint(batch.StudentHints, teacher!.Maps);
}
