using Orchestrator.Distillation.SoftTargets;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Losses;

/// <summary>The recipe settings a loss term reads besides its weight: what a trial's identity keeps only when a term reads it.</summary>
[Flags]
public enum LossSettings
{
    None = 0,
    /// <summary><c>temperature</c>: the softmax temperature T.</summary>
    Temperature = 1,
    /// <summary><c>margin</c>: the triplet margin.</summary>
    Margin = 2,
    /// <summary><c>features</c>: whether it compares logits or penultimate embeddings (relational and triplet terms).</summary>
    Feature = 4,
    /// <summary><c>standardize</c>: it softens logits by the temperature, so logit standardisation applies to it.</summary>
    Standardize = 8,
    /// <summary><c>stages</c>: it compares feature maps at the models' stages (feature losses).</summary>
    Stages = 16,
}

/// <summary>
/// One loss term of a recipe: its name in trial and sweep files, what it computes, the settings it reads, whether it
/// needs a teacher, and its value for each trial of a pack. Each term is one file in this folder; <see cref="LossTerms"/>
/// finds them all, so adding a loss is adding its file (and its test).
/// </summary>
public abstract class LossTerm
{
    /// <summary>Its name in <c>loss.terms</c> and <c>loss.weights</c>.</summary>
    public abstract string Name { get; }

    /// <summary>What it computes, in one line (shown in errors and <c>orchestrator validate</c>).</summary>
    public abstract string Description { get; }

    /// <summary>Names other tools and papers give it (<c>kl</c> for <c>hinton</c>): an unknown loss with one of them is pointed here.</summary>
    public virtual IReadOnlyList<string> OtherNames => [];

    /// <summary>Where it is listed among the terms: lower first.</summary>
    public abstract int ListOrder { get; }

    /// <summary>Whether it compares the student with teacher outputs (false: labels only).</summary>
    public virtual bool NeedsTeacher => true;

    public virtual LossSettings Reads => LossSettings.None;

    /// <summary>
    /// Settings of its own, written <c>loss: { dkd: { alpha: 1, beta: 8 } }</c>, with their defaults (the paper's or
    /// its reference code's); each trial of a pack may have its own (<see cref="LossBatch.Option"/>).
    /// </summary>
    public virtual IReadOnlyDictionary<string, double> Options { get; } = new Dictionary<string, double>();

    /// <summary>Checks one of its <see cref="Options"/>; the error says what the value may be.</summary>
    public virtual void CheckOption(string option, double value)
    {
        if (!(value >= 0) || double.IsInfinity(value))
            throw new UserInputException($"{Name}.{option} = {value} must be a number of at least 0.");
    }

    /// <summary>
    /// Its value for each trial of the pack, [K], against one teacher's view (null for a term that needs none). With
    /// several views (per-teacher aggregation) a term's value is the mean over them.
    /// </summary>
    public abstract Tensor Compute(LossBatch batch, TeacherView? teacher);
}

/// <summary>
/// One batch of a pack as loss terms see it: labels [B], the students' logits [K, B, C] and embeddings [K, B, F], each
/// trial's temperature and margin [K], its generator (triplet negatives), which features relational terms compare,
/// whether some labels are hidden (a label budget: cross-entropy counts the labelled samples only), whether the logits
/// a term softens are standardised first, and each trial's term options [K] by "term.option".
/// </summary>
public sealed record LossBatch(Tensor Labels, Tensor Logits, Tensor Embedding, Tensor Temperature, Tensor Margin,
    RelationFeature Feature, bool PartialLabels, IReadOnlyList<Generator?> Generators, bool Standardize, IReadOnlyDictionary<string, Tensor> Options)
{
    /// <summary>The students' feature maps [K, B, C, H, W] at the recipe's stages, in their order (the teacher's are in its view).</summary>
    public IReadOnlyList<Tensor> StudentMaps { get; init; } = [];

    /// <summary>The <see cref="StudentMaps"/> through each trial's learned hint regressor [K, B, C', H, W] (FitNets); empty without one.</summary>
    public IReadOnlyList<Tensor> StudentHints { get; init; } = [];

    /// <summary>Each trial's value [K] of one of a term's <see cref="LossTerm.Options"/>.</summary>
    public Tensor Option(LossTerm term, string option) => Options[$"{term.Name}.{option}"];

    /// <summary>The student's and the teacher's logits as a term that softens them by the temperature reads them: standardised when asked.</summary>
    public (Tensor Student, Tensor Teacher) LogitsToSoften(TeacherView teacher) =>
        Standardize ? (DistillationLosses.Standardize(Logits), DistillationLosses.Standardize(teacher.Logits)) : (Logits, teacher.Logits);

    /// <summary>What a relational term compares on the student's side: its logits or its embeddings.</summary>
    public Tensor StudentFeatures => Feature == RelationFeature.Logits ? Logits : Embedding;

    /// <summary>What a relational term compares on the teacher's side.</summary>
    public Tensor TeacherFeatures(TeacherView teacher, string term) => Feature == RelationFeature.Logits ? teacher.Logits
        : teacher.Embedding ?? throw new InvalidOperationException($"loss '{term}' compares embeddings, but the teacher outputs have none");

    /// <summary>Each sample's class for drawing negatives: its label, or where it has none, the teacher's prediction.</summary>
    public Tensor ClassesOf(Tensor teacherLogits) => PartialLabels ? where(Labels.ge(0), Labels, teacherLogits.argmax(-1)) : Labels;
}
