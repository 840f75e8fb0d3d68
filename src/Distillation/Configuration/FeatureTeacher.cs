using Orchestrator.Distillation.Losses;
using Orchestrator.Distillation.SoftTargets;

namespace Orchestrator.Distillation.Configuration;

/// <summary>
/// What feature losses (<see cref="LossRecipe.NeedsFeatureMaps"/>) ask of the teacher, checked where a trial file or a
/// sweep is read: one teacher, trained here (a TorchScript file names no stages), computed online (feature maps are
/// not stored), with the stages the loss compares. Each problem comes with the key it is about, for the caller's file:line.
/// </summary>
public static class FeatureTeacher
{
    /// <summary>The feature losses' names, for messages: "hint, at".</summary>
    public static string AllTerms => string.Join(", ", LossTerms.All.Where(t => t.Reads.HasFlag(LossSettings.Stages)).Select(t => t.Name));

    /// <summary>The feature losses of <paramref name="loss"/>, for messages: "at", "hint and at".</summary>
    public static string TermsOf(LossRecipe loss) => string.Join(" and ", loss.Weights.Keys.Where(t => LossTerms.Get(t).Reads.HasFlag(LossSettings.Stages)));

    /// <summary>
    /// Why the feature losses cannot run with this teacher, and the key it is about (checkpoints, torchscript, mode or
    /// checkpoint); null when they can. <paramref name="teacherStages"/> is null when the teacher's model is not known yet.
    /// </summary>
    public static (string Key, string Message)? Problem(TeacherEnsemble ensemble, LossRecipe loss, IReadOnlyList<string>? teacherStages)
    {
        string terms = TermsOf(loss);
        if (ensemble.Members.Count > 1) return ("checkpoints", $"{terms} compare one teacher's feature maps; give one teacher.");
        if (ensemble.Members[0].TorchScript is not null)
            return ("torchscript", $"a TorchScript teacher names no stages, which {terms} compare; use a teacher from the zoo (trained here, or by a sweep).");
        if (ensemble.Mode != SoftTargetMode.Online)
            return ("mode", $"{terms} compare the teacher's feature maps, which are computed online every step, not stored; write soft_targets: {{ mode: online }}.");
        if (teacherStages is not null && loss.Stages!.FirstOrDefault(s => !teacherStages.Contains(s)) is { } missing)
            return ("checkpoint", $"the teacher has no {missing} for loss.stages ({(teacherStages.Count == 0 ? "it names no stages: the zoo's models do" : $"its stages: {string.Join(", ", teacherStages)}")}).");
        return null;
    }
}
