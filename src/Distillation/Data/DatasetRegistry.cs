namespace Orchestrator.Distillation.Data;

/// <summary>
/// The datasets a trial or sweep can name: every <see cref="DatasetSource"/> of this assembly with a parameterless
/// constructor (one file each), found by reflection; and a trial's own tensor files.
/// </summary>
public static class DatasetRegistry
{
    static readonly Dictionary<string, DatasetSource> Sources = Implementations.Of<DatasetSource>()
        .OrderBy(s => s.ListOrder).ThenBy(s => s.Name, StringComparer.Ordinal)
        .ToDictionary(s => s.Name);

    public static IReadOnlyCollection<string> Names => Sources.Keys;

    /// <summary>The source that reads <paramref name="options"/>: its tensor files, or the dataset it names.</summary>
    public static DatasetSource Get(DataOptions options) =>
        options.Train is not null ? new TensorFileSource(options)
        : options.Images is not null ? new ImageFolderSource(options)
        : Get(options.Name).For(options);

    public static DatasetSource Get(string name) =>
        Sources.TryGetValue(name, out var source)
            ? source
            : throw new UserInputException($"unknown dataset '{name}'{Suggest.Nearest(name, Names)}; known datasets: {string.Join(", ", Names)}.");
}
