namespace Orchestrator.Distillation.Data;

/// <summary>A dataset known by name: where its files live, how to decode them, and how to get them when missing.</summary>
public abstract class DatasetSource
{
    public abstract string Name { get; }
    /// <summary>Where it is listed among the datasets (lower first); each source is a file of its own, found by <see cref="DatasetRegistry"/>.</summary>
    public abstract int ListOrder { get; }
    public abstract int Classes { get; }
    /// <summary>Training images in the dataset as published (a data_dir may hold a subset): validation is held out of these.</summary>
    public abstract int TrainSamples { get; }
    /// <summary>How many training images are held out for validation when a file does not say (dataset.validation).</summary>
    public virtual int DefaultValidation => 5000;
    /// <summary>The side of its (square) images, in pixels: how far augmentation may shift them.</summary>
    public abstract int ImageSide { get; }
    public virtual int Channels => 1;
    /// <summary>The shape its models are built for, known without reading its samples.</summary>
    public virtual DatasetInfo Info => new(Name, Channels, ImageSide, ImageSide, Classes);
    /// <summary>Files that must exist in the dataset directory (the fingerprint hashes them).</summary>
    public abstract IReadOnlyList<string> Files { get; }
    /// <summary>What to do when the files are missing (an install command, or where to put them).</summary>
    public abstract string InstallHint { get; }

    /// <summary>This dataset as <paramref name="options"/> read it (CIFAR-100's coarse labels); itself for most.</summary>
    public virtual DatasetSource For(DataOptions options) => this;

    public abstract Samples ReadTrain(string directory);
    public abstract Samples ReadTest(string directory);

    /// <summary>The folder that holds its files: root/name, else the root itself (see <see cref="Missing"/> when neither does).</summary>
    public string Locate(DataOptions options) => Folder(options) ?? throw new MissingDatasetException(Missing(options)!);

    /// <summary>
    /// Null when its files are on this machine; else why not: the folder looked in, the files missing there, where the
    /// datasets' root came from, and how to install the dataset (what `validate` and `local` check before anything runs).
    /// </summary>
    public virtual string? Missing(DataOptions options)
    {
        if (Folder(options) is not null) return null;
        var (root, origin) = options.Root();
        string named = Path.Combine(root, Name);
        string what = Directory.Exists(named)
            ? $"{named} lacks {string.Join(", ", Files.Where(f => Find(named, f) is null))} (the datasets' root {root} is {origin})"
            : $"{named} does not exist (the datasets' root {root} is {origin}; {named} should hold {string.Join(", ", Files)})";
        return $"dataset '{Name}' is not on this machine: {what}. {InstallHint}";
    }

    string? Folder(DataOptions options)
    {
        string root = options.Root().Root, named = Path.Combine(root, Name);
        if (Files.All(f => Find(named, f) is not null)) return named;
        return Files.All(f => Find(root, f) is not null) ? root : null;
    }

    /// <summary>One of its files in a folder: the unpacked form (without .gz) first, then as listed; null when neither exists.</summary>
    internal static string? Find(string directory, string fileName) =>
        new[] { fileName.EndsWith(".gz") ? fileName[..^3] : fileName, fileName }.Select(n => Path.Combine(directory, n)).FirstOrDefault(File.Exists);

    /// <summary>
    /// The hash of the user's files as they are now (<paramref name="now"/>), refused when it is not the one the trial
    /// was read with (<paramref name="planned"/>): the trial's identity names those contents, not whatever is there now.
    /// </summary>
    protected static string Unchanged(string what, string? planned, string now) =>
        planned is null || planned == now ? now
        : throw new UserInputException($"{what} changed since this trial was read (its contents no longer hash to {planned}); " +
                                       "read the trial or submit the sweep again, so its identity names the data as it is now.");

    /// <summary>A file of the dataset in its folder (as <see cref="Locate"/> found it).</summary>
    protected string RequireFile(string directory, string fileName) => Find(directory, fileName)
        ?? throw new MissingDatasetException($"dataset '{Name}': missing file {Path.Combine(directory, fileName)}. {InstallHint}");
}
