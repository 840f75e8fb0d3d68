using Orchestrator.Distillation.Losses;
using Orchestrator.Distillation.SoftTargets;

namespace Orchestrator.Distillation.Configuration;

/// <summary>
/// What feature losses (<see cref="LossRecipe.NeedsFeatureMaps"/>) ask of the teacher, checked where a trial file or a
/// sweep is read: one teacher, trained here or a TorchScript file that names its stages, computed online (feature maps
/// are not stored), with the stages the loss compares. Each problem comes with the key it is about, for the caller's file:line.
/// </summary>
public static class FeatureTeacher
{
    /// <summary>The feature losses' names, for messages: "hint, at".</summary>
    public static string AllTerms => string.Join(", ", LossTerms.All.Where(t => t.Reads.HasFlag(LossSettings.Stages)).Select(t => t.Name));

    /// <summary>The feature losses of <paramref name="loss"/>, for messages: "at", "hint and at".</summary>
    public static string TermsOf(LossRecipe loss) => string.Join(" and ", loss.Weights.Keys.Where(t => LossTerms.Get(t).Reads.HasFlag(LossSettings.Stages)));

    /// <summary>
    /// Why the feature losses cannot run with this teacher, and the key it is about (checkpoints, torchscript, mode,
    /// checkpoint or stages); null when they can. <paramref name="teacherStages"/> is null when the teacher's model is not known yet.
    /// </summary>
    public static (string Key, string Message)? Problem(TeacherEnsemble ensemble, LossRecipe loss, IReadOnlyList<string>? teacherStages)
    {
        string terms = TermsOf(loss);
        if (ensemble.Members.Count > 1) return ("checkpoints", $"{terms} compare one teacher's feature maps; give one teacher.");
        if (ensemble.Members[0] is { TorchScript: not null } script)
        {
            if (script.Stages is null)
                return ("torchscript", $"{terms} compare feature maps at named stages; list the TorchScript teacher's with stages: [stage1, stage2, ...] and " +
                                       "return them from its forward after the embedding, as a tuple (logits, embedding, stage1, stage2, ...); or use a teacher from the zoo.");
            teacherStages = script.Stages;
        }
        if (ensemble.Mode != SoftTargetMode.Online)
            return ("mode", $"{terms} compare the teacher's feature maps, which are computed online every step, not stored; write soft_targets: {{ mode: online }}.");
        if (teacherStages is not null && loss.Stages!.FirstOrDefault(s => !teacherStages.Contains(s)) is { } missing)
            return (ensemble.Members[0].TorchScript is null ? "checkpoint" : "stages", $"the teacher has no {missing} for loss.stages ({(teacherStages.Count == 0 ? "it names no stages: the zoo's models do" : $"its stages: {string.Join(", ", teacherStages)}")}).");
        return null;
    }
}
