namespace Orchestrator.Distillation.Losses;

/// <summary>Which tensors the triplet and relational losses compare: the logits (default) or the penultimate embeddings.</summary>
public enum RelationFeature { Logits, Embedding }

/// <summary>
/// A weighted sum of loss terms. Weights come either explicitly per term, or from <c>alpha</c>: every distillation
/// term gets weight alpha and <c>ce</c> gets 1 - alpha, i.e. <c>alpha * KD + (1 - alpha) * CE</c>. Note that some
/// papers (and the PyTorch tutorial's "soft target loss weight") write it the other way round. The terms are
/// <see cref="LossTerms"/>: one file each.
/// </summary>
public sealed record LossRecipe(IReadOnlyDictionary<string, double> Weights, double Temperature, double TripletMargin, RelationFeature Feature)
{
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
    };

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
