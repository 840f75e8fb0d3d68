using System.Text.Json.Serialization;

namespace Orchestrator.Distillation.Data;

/// <summary>
/// Which dataset to load and how to split it. The validation set is drawn from the training set by
/// <paramref name="SplitSeed"/>; the test set is only ever used for final reporting.
/// </summary>
/// <param name="DataDir">Root folder of datasets (the dataset's files are in DataDir/name/ or DataDir/); null: $ORCHESTRATOR_DATA_DIR, else /usr/share/datasets.</param>
/// <param name="Labels">
/// The label budget (<see cref="LabelBudget"/>): a fraction of the training split (at most 1) or a number of samples
/// (above 1) that keep their labels, a stratified subset drawn with <paramref name="SplitSeed"/>; the rest is the
/// unlabelled transfer set. Null: every label. Left out of a trial's identity when null, so trials without a budget
/// keep the identity they had before budgets existed.
/// </param>
/// <param name="Train">A tensor-file dataset's training file (.safetensors or .npz; <see cref="TensorFileSource"/>), a full path; null for a named dataset.</param>
/// <param name="Test">Its test file.</param>
/// <param name="Layout">How its 4-D images are laid out (NCHW or NHWC) when the shape does not say.</param>
/// <param name="Images">An image-folder dataset's folder (<see cref="ImageFolderSource"/>), a full path; <paramref name="Size"/> the side its images are resized to.</param>
/// <param name="Label">Which of a dataset's labels to learn (CIFAR-100: fine, the default, or coarse); null: its default.</param>
/// <param name="Sha256">The hash of its files' (or image folder's) contents when the trial was read, so a changed file is a new trial, and a trial whose file changed since is refused.</param>
public sealed record DataOptions(string Name, string? DataDir = null, int Validation = 5000, int SplitSeed = 0,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? Labels = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Train = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Test = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Layout = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Sha256 = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Label = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Images = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Size = null)
{
    public const string DataDirVariable = "ORCHESTRATOR_DATA_DIR";
    public const string DefaultRoot = "/usr/share/datasets";

    /// <summary>The datasets' root folder, and where that choice came from (for the error when a dataset is not there).</summary>
    public (string Root, string Origin) Root() =>
        DataDir is not null ? (DataDir, "the file's data_dir")
        : ConfiguredRoot != DefaultRoot ? (ConfiguredRoot, $"set by --data-dir or ${DataDirVariable}")
        : (DefaultRoot, $"the default; --data-dir or ${DataDirVariable} name another");

    /// <summary>The datasets' root for files that give no data_dir: --data-dir or $ORCHESTRATOR_DATA_DIR, else the default.</summary>
    public static string ConfiguredRoot => Environment.GetEnvironmentVariable(DataDirVariable) is { Length: > 0 } set ? set : DefaultRoot;

    /// <summary>The same samples and split with every label: what teacher outputs and soft targets depend on.</summary>
    public DataOptions WithAllLabels() => this with { Labels = null };
}
