namespace Orchestrator.Distillation.Data;

/// <summary>The datasets a trial or sweep can name.</summary>
public static class DatasetRegistry
{
    static readonly Dictionary<string, DatasetSource> Sources = new DatasetSource[]
    {
        new IdxDatasetSource("fashion-mnist", "Install it with: sudo apt-get install dataset-fashion-mnist"),
        new IdxDatasetSource("mnist",
            "Put the four MNIST IDX files (train-images-idx3-ubyte.gz, ...) there, or point --data-dir / ORCHESTRATOR_DATA_DIR at a folder holding mnist/."),
        new Cifar10Source(),
        new SyntheticSource(),
    }.ToDictionary(s => s.Name);

    public static IReadOnlyCollection<string> Names => Sources.Keys;

    public static DatasetSource Get(string name) =>
        Sources.TryGetValue(name, out var source)
            ? source
            : throw new UserInputException($"unknown dataset '{name}'{Suggest.Nearest(name, Names)}; known datasets: {string.Join(", ", Names)}.");
}
