namespace Orchestrator.Distillation.Losses;

/// <summary>Which tensors the triplet and relational losses compare: the logits (default) or the penultimate embeddings.</summary>
public enum RelationFeature { Logits, Embedding }

/// <summary>
/// A weighted sum of loss terms. Weights come either explicitly per term, or from <c>alpha</c>: every distillation
/// term gets weight alpha and <c>ce</c> gets 1 - alpha, i.e. <c>alpha * KD + (1 - alpha) * CE</c>. Note that some
/// papers (and the PyTorch tutorial's "soft target loss weight") write it the other way round.
/// </summary>
public sealed record LossRecipe(IReadOnlyDictionary<string, double> Weights, double Temperature, double TripletMargin, RelationFeature Feature)
{
    public const string CrossEntropyTerm = "ce";

    /// <summary>Every term name, with what it computes.</summary>
    public static readonly IReadOnlyDictionary<string, string> Terms = new Dictionary<string, string>
    {
        [CrossEntropyTerm] = "cross-entropy on the hard labels",
        ["hinton"] = "KL(softmax(t/T) || softmax(s/T)) * T^2",
        ["soft-ce"] = "cross-entropy against softmax(t/T), * T^2",
        ["logit-mse"] = "mean squared error between logits",
        ["triplet"] = "triplet KD: teacher anchor, student positive, student negative of another class",
        ["rkd-d"] = "relational KD, distance",
        ["rkd-a"] = "relational KD, angle",
        ["rkd-da"] = "relational KD, distance + 2 * angle (Park et al.'s weights 25 and 50)",
    };

    public static LossRecipe LabelsOnly { get; } = new(new Dictionary<string, double> { [CrossEntropyTerm] = 1 }, 1, 1, RelationFeature.Logits);

    static readonly string[] TemperatureTerms = ["hinton", "soft-ce"], RelationTerms = ["triplet", "rkd-d", "rkd-a", "rkd-da"];

    public bool NeedsTeacher => Weights.Keys.Any(t => t != CrossEntropyTerm);

    /// <summary>Whether a relational or triplet term compares embeddings, so the teachers' embeddings must be kept.</summary>
    public bool NeedsTeacherEmbedding => Feature == RelationFeature.Embedding && Weights.Keys.Any(RelationTerms.Contains);

    /// <summary>
    /// This recipe with each setting that none of its terms reads (the temperature without hinton or soft-ce, the margin
    /// without triplet, the features without a relational term) at its neutral value: what a trial's identity hashes,
    /// so a sweep crossing [ce] with temperatures runs the student alone once per seed, not once per temperature.
    /// </summary>
    public LossRecipe WithoutUnusedSettings() => this with
    {
        Temperature = Weights.Keys.Any(TemperatureTerms.Contains) ? Temperature : LabelsOnly.Temperature,
        TripletMargin = Weights.ContainsKey("triplet") ? TripletMargin : LabelsOnly.TripletMargin,
        Feature = Weights.Keys.Any(RelationTerms.Contains) ? Feature : LabelsOnly.Feature,
    };

    /// <summary>Builds weights from a term list and alpha; errors say how to fix them.</summary>
    public static IReadOnlyDictionary<string, double> WeightsFromAlpha(IReadOnlyList<string> terms, double? alpha)
    {
        if (terms.Count == 0) throw new UserInputException($"terms is empty; list at least one of {string.Join(", ", Terms.Keys)}.");
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
        if (!Terms.ContainsKey(term))
            throw new UserInputException($"unknown loss '{term}'{Suggest.Nearest(term, Terms.Keys)}; known losses: {string.Join(", ", Terms.Keys)}.");
    }

    public static void CheckTemperature(double temperature)
    {
        if (!(temperature > 0) || double.IsInfinity(temperature))
            throw new UserInputException($"temperature = {temperature} must be a positive number (T = 1 is the plain softmax; Hinton et al. used up to 20).");
    }
}
