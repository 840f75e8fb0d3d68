using Orchestrator.Distillation.Data;

namespace Orchestrator.Distillation.Models;

/// <summary>The architectures a trial can name: every <see cref="ModelFamily"/> of this assembly (one file each), found by reflection.</summary>
public static class ModelRegistry
{
    static readonly IReadOnlyList<ModelFamily> Families = Implementations.Of<ModelFamily>()
        .OrderBy(f => f.ListOrder).ThenBy(f => f.GetType().Name, StringComparer.Ordinal)
        .ToList();

    /// <summary>Every family, in list order.</summary>
    public static IReadOnlyList<ModelFamily> All => Families;

    /// <summary>How many parameters <paramref name="spec"/> has when built for <paramref name="data"/>.</summary>
    public static long Parameters(ModelSpec spec, DatasetInfo data) => Validate(spec).Parameters(spec, data);

    /// <summary>Every family's name patterns, for lists of known models.</summary>
    public static IEnumerable<string> Names => Families.SelectMany(f => f.Patterns);

    /// <summary>The family of the spec's name, its dropout and parameters checked without building anything, so a bad file fails before data is loaded.</summary>
    public static ModelFamily Validate(ModelSpec spec)
    {
        if (spec.Dropout is < 0 or >= 1)
            throw new UserInputException($"model '{spec.Name}': dropout {spec.Dropout} must be in [0, 1).");
        var family = Families.FirstOrDefault(f => f.Matches(spec))
            ?? throw new UserInputException($"unknown model '{spec.Name}'{Suggest.Nearest(spec.Name, Families.SelectMany(f => f.Examples))}; " +
                                            $"known models: {string.Join(", ", Names)}.");
        family.Validate(spec);
        return family;
    }

    public static Classifier Create(ModelSpec spec, DatasetInfo data) => Validate(spec).Create(spec, data);

    /// <summary>The stages of <paramref name="spec"/> built for <paramref name="data"/> (<see cref="Classifier.Stages"/>), built once per process: a sweep asks at every point.</summary>
    public static IReadOnlyList<string> StagesOf(ModelSpec spec, DatasetInfo data) => KnownStages.GetOrAdd((spec, data), key =>
    {
        using var model = Create(key.Spec, key.Data);
        return model.Stages;
    });

    static readonly System.Collections.Concurrent.ConcurrentDictionary<(ModelSpec Spec, DatasetInfo Data), IReadOnlyList<string>> KnownStages = new();
}
