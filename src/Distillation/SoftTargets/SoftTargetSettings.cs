using Orchestrator.Distillation.Configuration;
using Orchestrator.Distillation.Losses;
using Orchestrator.Distillation.Training;

namespace Orchestrator.Distillation.SoftTargets;

/// <summary>
/// How students receive their teachers' outputs, as trial files and sweep files both write it:
/// <c>soft_targets: { mode: cached | online, aggregation, aggregation_temperature, dtype, views }</c>, and in a sweep
/// <c>shards</c>. One reader for both, so the two files spell it the same.
/// </summary>
/// <param name="Views">Augmented views of every training sample whose outputs the store keeps (checked against each student's augmentation when it is built).</param>
public sealed record SoftTargetSettings(Aggregation Aggregation, double? AggregationTemperature, SoftTargetMode Mode, SoftTargetDtype Dtype, int? Views, int Shards)
{
    /// <summary>Generation jobs per teacher when a sweep does not say: enough to spread a teacher over a few slots.</summary>
    public const int DefaultShards = 4;

    /// <summary>Reads the section's keys (the caller rejects unknown keys once it has read its own).</summary>
    /// <param name="modeKey">Where the mode is: <c>mode</c>, or <c>soft_targets</c> in a trial file's teacher section (the old spelling).</param>
    /// <param name="shards">Whether <c>shards</c> may be set: a sweep plans generation jobs, a trial runs none.</param>
    public static SoftTargetSettings Read(ConfigMap section, string modeKey = "mode", bool shards = false)
    {
        var aggregation = section.Choice("aggregation", TeacherEnsemble.AggregationNames, Aggregation.MeanLogits);
        double? temperature = section.Double("aggregation_temperature");
        if (temperature is not null && aggregation != Aggregation.MeanProbs)
            throw section.Error("aggregation_temperature", "only mean-probs uses a temperature to combine teachers; remove it, or set aggregation: mean-probs.");
        if (temperature is { } t) section.Check("aggregation_temperature", () => LossRecipe.CheckTemperature(t));
        var mode = section.Choice(modeKey, TeacherEnsemble.ModeNames, SoftTargetMode.Cached);
        var dtype = section.Choice("dtype", TeacherEnsemble.DtypeNames, SoftTargetDtype.Float32);
        int count = shards ? section.Int("shards") ?? DefaultShards : DefaultShards;
        if (count is < 1 or > 1024) throw section.Error("shards", "must be between 1 and 1024: how many generation jobs split each teacher's pass over the data.");
        return new SoftTargetSettings(aggregation, temperature, mode, dtype, section.Int("views"), count);
    }

    /// <summary>The keys a trial file's teacher section held before <c>soft_targets</c> was a section of its own.</summary>
    public static readonly IReadOnlyList<string> OldTeacherKeys = ["soft_targets", "aggregation", "aggregation_temperature", "dtype", "views"];

    /// <summary>
    /// The ensemble of <paramref name="members"/> delivered so, for a student with this loss temperature (mean-probs
    /// combines at it unless aggregation_temperature says otherwise) and augmentation (its views are of it); errors at
    /// <paramref name="at"/>'s keys.
    /// </summary>
    public TeacherEnsemble Ensemble(IReadOnlyList<TeacherSource> members, double lossTemperature, AugmentOptions? augment, ConfigMap at)
    {
        var views = Views is { } count ? at.Check("views", () => AugmentedViews.Create(count, Mode, augment)) : null;
        return new TeacherEnsemble(members, Aggregation, AggregationTemperature ?? lossTemperature, Mode, Dtype, views);
    }
}
