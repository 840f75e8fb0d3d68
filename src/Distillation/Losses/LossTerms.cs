namespace Orchestrator.Distillation.Losses;

/// <summary>Every <see cref="LossTerm"/> in this assembly, by name: found by reflection, so a new term needs no list edited.</summary>
public static class LossTerms
{
    static readonly IReadOnlyDictionary<string, LossTerm> ByName = Implementations.Of<LossTerm>()
        .OrderBy(t => t.ListOrder).ThenBy(t => t.Name, StringComparer.Ordinal)
        .ToDictionary(t => t.Name);

    /// <summary>In their listing order.</summary>
    public static IEnumerable<LossTerm> All => ByName.Values;

    public static IEnumerable<string> Names => ByName.Keys;

    public static bool TryGet(string name, out LossTerm term) => ByName.TryGetValue(name, out term!);

    public static LossTerm Get(string name) =>
        ByName.TryGetValue(name, out var term) ? term : throw new InvalidOperationException($"unknown loss term '{name}'");

    /// <summary>Whether any of the named terms reads <paramref name="setting"/>.</summary>
    public static bool AnyReads(IEnumerable<string> names, LossSettings setting) => names.Any(n => Get(n).Reads.HasFlag(setting));
}
