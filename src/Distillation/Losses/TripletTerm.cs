using Orchestrator.Distillation.SoftTargets;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Losses;

/// <summary>
/// <c>triplet</c>: triplet KD (Oki et al. 2020), <see cref="DistillationLosses.Triplet"/>; each trial draws its negatives
/// with its own generator, and an unlabelled anchor's class is the teacher's prediction.
/// </summary>
sealed class TripletTerm : LossTerm
{
    public override string Name => "triplet";
    public override string Description => "triplet KD: teacher anchor, student positive, student negative of another class";
    public override int ListOrder => 40;
    public override LossSettings Reads => LossSettings.Margin | LossSettings.Feature;

    public override Tensor Compute(LossBatch batch, TeacherView? teacher)
    {
        var classes = batch.ClassesOf(teacher!.Logits);
        var negatives = stack(batch.Generators.Select(g => DistillationLosses.SampleNegatives(classes, g)));
        return DistillationLosses.Triplet(batch.StudentFeatures, batch.TeacherFeatures(teacher, Name), negatives, batch.Margin);
    }
}
