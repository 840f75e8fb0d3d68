namespace Orchestrator.Distillation.Data;

/// <summary>The datasets a trial or sweep can name: every <see cref="DatasetSource"/> of this assembly (one file each), found by reflection.</summary>
public static class DatasetRegistry
{
    static readonly Dictionary<string, DatasetSource> Sources = Implementations.Of<DatasetSource>()
        .OrderBy(s => s.ListOrder).ThenBy(s => s.Name, StringComparer.Ordinal)
        .ToDictionary(s => s.Name);

    public static IReadOnlyCollection<string> Names => Sources.Keys;

    public static DatasetSource Get(string name) =>
        Sources.TryGetValue(name, out var source)
            ? source
            : throw new UserInputException($"unknown dataset '{name}'{Suggest.Nearest(name, Names)}; known datasets: {string.Join(", ", Names)}.");
}
