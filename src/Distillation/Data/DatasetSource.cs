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
    /// <summary>The side of its (square) images, in pixels: how far augmentation may shift them.</summary>
    public abstract int ImageSide { get; }
    public virtual int Channels => 1;
    /// <summary>Files that must exist in the dataset directory (the fingerprint hashes them).</summary>
    public abstract IReadOnlyList<string> Files { get; }
    /// <summary>What to do when the files are missing (an install command, or where to put them).</summary>
    public abstract string InstallHint { get; }

    public abstract RawImages ReadTrain(string directory);
    public abstract RawImages ReadTest(string directory);

    protected string RequireFile(string directory, string fileName)
    {
        string path = Path.Combine(directory, fileName);
        if (!File.Exists(path))
            throw new UserInputException($"dataset '{Name}': missing file {path}. {InstallHint}");
        return path;
    }
}
