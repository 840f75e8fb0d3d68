using System.Text.Json.Serialization;

namespace Orchestrator.Distillation.Losses;

/// <summary>Which tensors the triplet and relational losses compare: the logits (default) or the penultimate embeddings.</summary>
public enum RelationFeature { Logits, Embedding }

/// <summary>
/// A weighted sum of loss terms. Weights come either explicitly per term, or from <c>alpha</c>: every distillation
/// term gets weight alpha and <c>ce</c> gets 1 - alpha, i.e. <c>alpha * KD + (1 - alpha) * CE</c>. Note that some
/// papers (and the PyTorch tutorial's "soft target loss weight") write it the other way round. The terms are
/// <see cref="LossTerms"/>: one file each.
/// </summary>
/// <param name="Standardize">Logit standardisation (Sun et al. 2024) for the terms that soften logits (<see cref="LossSettings.Standardize"/>).</param>
/// <param name="Warmup">Epochs over which every distillation weight ramps linearly from 0 (epoch e of N weighs (e + 1) / N); 0: none.</param>
/// <param name="Options">The terms' own settings by "term.option" (<see cref="LossTerm.Options"/>), every option of every term present; null when none has any.</param>
/// <param name="Stages">The stages whose feature maps the feature losses (<see cref="LossSettings.Stages"/>) compare; null without them.</param>
/// The four are left out of a trial's identity at their defaults, so recipes without them keep the identity they had.
public sealed record LossRecipe(IReadOnlyDictionary<string, double> Weights, double Temperature, double TripletMargin, RelationFeature Feature,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] bool Standardize = false,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] int Warmup = 0,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyDictionary<string, double>? Options = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Stages = null)
{
    /// <summary>Whether a term compares feature maps, so the student and an online teacher must give them.</summary>
    [JsonIgnore] // derived, and not in the identities of trials planned before it existed
    public bool NeedsFeatureMaps => LossTerms.AnyReads(Weights.Keys, LossSettings.Stages);

    /// <summary>Whether the students learn a hint regressor (<see cref="Models.HintRegressor"/>) with this loss.</summary>
    [JsonIgnore]
    public bool HasHints => Weights.ContainsKey(HintTerm.TermName);

    public const string CrossEntropyTerm = "ce";

    public static LossRecipe LabelsOnly { get; } = new(new Dictionary<string, double> { [CrossEntropyTerm] = 1 }, 1, 1, RelationFeature.Logits);

    public bool NeedsTeacher => Weights.Keys.Any(t => LossTerms.Get(t).NeedsTeacher);

    /// <summary>Whether a relational or triplet term compares embeddings, so the teachers' embeddings must be kept.</summary>
    public bool NeedsTeacherEmbedding => Feature == RelationFeature.Embedding && LossTerms.AnyReads(Weights.Keys, LossSettings.Feature);

    /// <summary>
    /// This recipe with each setting that none of its terms reads (the temperature without hinton or soft-ce, the margin
    /// without triplet, the features without a relational term) at its neutral value: what a trial's identity hashes,
    /// so a sweep crossing [ce] with temperatures runs the student alone once per seed, not once per temperature.
    /// </summary>
    public LossRecipe WithoutUnusedSettings() => this with
    {
        Temperature = LossTerms.AnyReads(Weights.Keys, LossSettings.Temperature) ? Temperature : LabelsOnly.Temperature,
        TripletMargin = LossTerms.AnyReads(Weights.Keys, LossSettings.Margin) ? TripletMargin : LabelsOnly.TripletMargin,
        Feature = LossTerms.AnyReads(Weights.Keys, LossSettings.Feature) ? Feature : LabelsOnly.Feature,
        Standardize = Standardize && LossTerms.AnyReads(Weights.Keys, LossSettings.Standardize),
        Warmup = NeedsTeacher ? Warmup : 0,
        Stages = NeedsFeatureMaps ? Stages : null,
    };

    /// <summary>Each trial's value of a term's option: the recipe's, or the term's default.</summary>
    public double Option(LossTerm term, string option) =>
        Options is not null && Options.TryGetValue($"{term.Name}.{option}", out double value) ? value : term.Options[option];

    /// <summary>How much the distillation terms weigh in a 0-based epoch: (epoch + 1) / warm-up, up to 1.</summary>
    public double WarmupFactor(int epoch) => Warmup == 0 ? 1 : Math.Min(1, (epoch + 1) / (double)Warmup);

    /// <summary>Builds weights from a term list and alpha; errors say how to fix them.</summary>
    public static IReadOnlyDictionary<string, double> WeightsFromAlpha(IReadOnlyList<string> terms, double? alpha)
    {
        if (terms.Count == 0) throw new UserInputException($"terms is empty; list at least one of {string.Join(", ", LossTerms.Names)}.");
        foreach (var term in terms) CheckTermName(term);
        if (terms.Distinct().Count() != terms.Count) throw new UserInputException("a term is listed twice.");
        bool hasCe = terms.Contains(CrossEntropyTerm);
        bool hasKd = terms.Any(t => t != CrossEntropyTerm);
        if (hasCe && hasKd && alpha is null)
            throw new UserInputException("alpha is required when terms mix ce with distillation terms (total = alpha * KD + (1 - alpha) * CE), or give loss.weights per term.");
        if (alpha is { } a && (a < 0 || a > 1 || double.IsNaN(a)))
            throw new UserInputException($"alpha = {a} is outside [0, 1]; alpha weighs the distillation terms and 1 - alpha the cross-entropy.");
        return terms.ToDictionary(t => t, t => !(hasCe && hasKd) ? 1.0 : t == CrossEntropyTerm ? 1 - alpha!.Value : alpha!.Value);
    }

    public static void CheckTermName(string term)
    {
        if (LossTerms.TryGet(term, out _)) return;
        string suggestion = LossTerms.All.FirstOrDefault(t => t.OtherNames.Contains(term.ToLowerInvariant())) is { } known
            ? $" (did you mean '{known.Name}'? it computes {known.Description})"
            : Suggest.Nearest(term, LossTerms.Names);
        throw new UserInputException($"unknown loss '{term}'{suggestion}; known losses: {string.Join(", ", LossTerms.Names)}.");
    }

    public static void CheckTemperature(double temperature)
    {
        if (!(temperature > 0) || double.IsInfinity(temperature))
            throw new UserInputException($"temperature = {temperature} must be a positive number (T = 1 is the plain softmax; Hinton et al. used up to 20).");
    }
}
