namespace Orchestrator.Distillation.Data;

/// <summary>
/// Which dataset to load and how to split it. The validation set is drawn from the training set by
/// <paramref name="SplitSeed"/>; the test set is only ever used for final reporting.
/// </summary>
/// <param name="DataDir">Root folder of datasets (the dataset's files are in DataDir/name/ or DataDir/); null: $ORCHESTRATOR_DATA_DIR, else /usr/share/datasets.</param>
public sealed record DataOptions(string Name, string? DataDir = null, int Validation = 5000, int SplitSeed = 0)
{
    public const string DataDirVariable = "ORCHESTRATOR_DATA_DIR";
    public const string DefaultRoot = "/usr/share/datasets";

    public string ResolveDirectory()
    {
        string root = DataDir ?? Environment.GetEnvironmentVariable(DataDirVariable) ?? DefaultRoot;
        string named = Path.Combine(root, Name);
        return Directory.Exists(named) ? named : root;
    }
}
