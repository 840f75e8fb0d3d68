using Orchestrator.Distillation.SoftTargets;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Losses;

/// <summary>
/// The losses of the K trials of a pack, computed together: one <see cref="LossRecipe"/> per trial, with the same terms,
/// features and standardisation, whose weights (through each trial's warm-up), temperatures, margins and term options
/// become [K] tensors. A pack of one is a single trial.
/// Under a label budget (<c>partialLabels</c>) cross-entropy counts the batch's labelled samples only, and triplet KD
/// takes an unlabelled anchor's class to be the teacher's prediction when it draws a negative of another class.
/// </summary>
public sealed class PackedLoss : IDisposable
{
    readonly string[] names;
    readonly RelationFeature feature;
    readonly bool partialLabels, standardize;
    readonly Device device;
    List<LossRecipe> recipes;
    /// <summary>Each term's weight [K] in the current epoch: a distillation term's scaled by its trial's warm-up.</summary>
    Dictionary<string, Tensor> weights = [];
    Dictionary<string, Tensor> options;
    Tensor temperature, margin;

    /// <summary>The trials' losses as they weigh in the first epoch (<see cref="SetEpoch"/> moves on).</summary>
    public PackedLoss(IReadOnlyList<LossRecipe> recipes, Device device, bool partialLabels = false)
    {
        this.partialLabels = partialLabels;
        this.device = device;
        if (recipes.Count == 0) throw new ArgumentException("a pack needs at least one trial", nameof(recipes));
        names = recipes[0].Weights.Keys.ToArray();
        feature = recipes[0].Feature;
        standardize = recipes[0].Standardize;
        if (recipes.Any(r => !r.Weights.Keys.ToHashSet().SetEquals(names) || r.Feature != feature || r.Standardize != standardize
                             || !(r.Stages ?? []).SequenceEqual(recipes[0].Stages ?? [])))
            throw new ArgumentException("the trials of a pack must have the same loss terms, features, standardisation and stages", nameof(recipes));
        this.recipes = recipes.ToList();
        options = names.Select(LossTerms.Get).SelectMany(t => t.Options.Keys.Select(o => (Term: t, Option: o)))
            .ToDictionary(p => $"{p.Term.Name}.{p.Option}", p => PerTrial(recipes.Select(r => r.Option(p.Term, p.Option)), device));
        temperature = PerTrial(recipes.Select(r => r.Temperature), device);
        margin = PerTrial(recipes.Select(r => r.TripletMargin), device);
        NeedsTeacher = recipes[0].NeedsTeacher;
        SetEpoch(0);
    }

    /// <summary>Weighs the terms as in the 0-based <paramref name="epoch"/>: each trial's distillation terms through its warm-up.</summary>
    public void SetEpoch(int epoch)
    {
        foreach (var weight in weights.Values) weight.Dispose();
        weights = names.ToDictionary(n => n, n => PerTrial(recipes.Select(r => r.Weights[n] * (LossTerms.Get(n).NeedsTeacher ? r.WarmupFactor(epoch) : 1)), device));
    }

    public bool NeedsTeacher { get; }

    public IReadOnlyList<string> Terms => names;

    /// <summary>
    /// Each trial's weighted total [K] and unweighted terms [K], for one batch: logits [K, B, C] and embeddings [K, B, F]
    /// of the pack, the teachers' views shared by all trials. With several views (per-teacher aggregation) each
    /// distillation term is the mean of that term against every teacher. Triplet negatives come from each trial's generator.
    /// </summary>
    /// <param name="studentMaps">The pack's feature maps [K, B, C, H, W] at the recipe's stages, for feature losses.</param>
    /// <param name="studentHints">Those maps through the trials' hint regressors, for <c>hint</c>.</param>
    public (Tensor Total, Dictionary<string, Tensor> Terms) Compute(Tensor labels, Tensor logits, Tensor embedding,
        IReadOnlyList<TeacherView> teachers, IReadOnlyList<Generator?> generators, IReadOnlyList<Tensor>? studentMaps = null,
        IReadOnlyList<Tensor>? studentHints = null)
    {
        var batch = new LossBatch(labels, logits, embedding, temperature, margin, feature, partialLabels, generators, standardize, options)
        {
            StudentMaps = studentMaps ?? [],
            StudentHints = studentHints ?? [],
        };
        var terms = new Dictionary<string, Tensor>();
        Tensor? total = null;
        foreach (var name in names)
        {
            var term = LossTerms.Get(name);
            Tensor value;
            if (!term.NeedsTeacher) value = term.Compute(batch, null);
            else if (teachers.Count == 0) throw new InvalidOperationException($"loss '{name}' needs teacher outputs");
            else
            {
                value = term.Compute(batch, teachers[0]);
                for (int k = 1; k < teachers.Count; k++) value = value + term.Compute(batch, teachers[k]);
                if (teachers.Count > 1) value = value / teachers.Count;
            }
            terms[name] = value;
            var weighted = value * weights[name];
            total = total is null ? weighted : total + weighted;
        }
        return (total!, terms);
    }

    /// <summary>Keeps only these trials, in this order (the others ended).</summary>
    public void Keep(IReadOnlyList<int> trials)
    {
        using var index = tensor(trials.Select(t => (long)t).ToArray(), device: temperature.device);
        var kept = weights.ToDictionary(w => w.Key, w => w.Value.index_select(0, index));
        var keptOptions = options.ToDictionary(o => o.Key, o => o.Value.index_select(0, index));
        var keptTemperature = temperature.index_select(0, index);
        var keptMargin = margin.index_select(0, index);
        Dispose();
        (weights, options, temperature, margin) = (kept, keptOptions, keptTemperature, keptMargin);
        recipes = trials.Select(t => recipes[t]).ToList();
    }

    public void Dispose()
    {
        foreach (var tensor in weights.Values.Concat(options.Values)) tensor.Dispose();
        temperature.Dispose();
        margin.Dispose();
    }

    static Tensor PerTrial(IEnumerable<double> values, Device device) => tensor(values.Select(v => (float)v).ToArray(), device: device);
}
