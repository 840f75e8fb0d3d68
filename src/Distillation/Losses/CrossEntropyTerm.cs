using Orchestrator.Distillation.SoftTargets;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Losses;

/// <summary><c>ce</c>: cross-entropy on the hard labels; under a label budget, on the batch's labelled samples only.</summary>
sealed class CrossEntropyTerm : LossTerm
{
    public override string Name => LossRecipe.CrossEntropyTerm;
    public override string Description => "cross-entropy on the hard labels";
    public override int ListOrder => 0;
    public override IReadOnlyList<string> OtherNames => ["cross_entropy", "cross-entropy", "xent"];
    public override bool NeedsTeacher => false;

    public override Tensor Compute(LossBatch batch, TeacherView? teacher) => batch.PartialLabels
        ? DistillationLosses.CrossEntropyOnLabelled(batch.Logits, batch.Labels)
        : DistillationLosses.CrossEntropy(batch.Logits, batch.Labels);
}
