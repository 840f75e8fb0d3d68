using System.Security.Cryptography;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Data;

public sealed record DatasetInfo(string Name, int Channels, int Height, int Width, int Classes)
{
    public int Features => Channels * Height * Width;
}

/// <summary>How images are normalised before a model sees them: pixels scaled to [0, 1], then (x - Mean[c]) / Std[c] per channel.</summary>
public sealed record InputNormalisation(float[] Mean, float[] Std);

/// <summary>
/// A dataset split into train / validation / test, normalised per channel with statistics of the training
/// split only, and held on the training device. Under a label budget (<see cref="DataOptions.Labels"/>) the training
/// split's unlabelled samples read <see cref="LabelBudget.Hidden"/> as their label; validation and test keep theirs.
/// </summary>
public sealed class DistillationData : IDisposable
{
    public required DatasetInfo Info { get; init; }
    public required ImageSet Train { get; init; }
    public required ImageSet Validation { get; init; }
    public required ImageSet Test { get; init; }
    /// <summary>Hash of the dataset files and the split: equal fingerprints mean identical samples in identical order.</summary>
    public required string Fingerprint { get; init; }
    /// <summary>The positions in the training split of the samples that keep their labels (sorted, on the device); null: every sample.</summary>
    public Tensor? Labelled { get; init; }

    /// <summary>[1, C, 1, 1] on the device: a zero pixel normalised, what augmentation pads with.</summary>
    public required Tensor Black { get; init; }

    /// <summary>The training split's per-channel statistics every split was normalised with (what an exported model's input needs).</summary>
    public required InputNormalisation Normalisation { get; init; }

    /// <summary>How many training samples have labels.</summary>
    public long LabelledCount => Labelled?.shape[0] ?? Train.Count;

    public static DistillationData Load(DataOptions options, Device device)
    {
        var source = DatasetRegistry.Get(options);
        string directory = source.Locate(options);
        ImageSet trainSet, validationSet, testSet;
        int channels, height, width;
        using (Samples train = source.ReadTrain(directory))
        {
            if (options.Validation <= 0 || options.Validation >= train.Count)
                throw new UserInputException(
                    $"dataset.validation = {options.Validation}: must be between 1 and {train.Count - 1} (samples taken from the {train.Count} training samples).");
            var (trainIndices, validationIndices) = Split(train.Count, options.Validation, options.SplitSeed);
            (channels, height, width) = (train.Channels, train.Height, train.Width);
            var sets = train.Split([trainIndices, validationIndices]);
            (trainSet, validationSet) = (sets[0], sets[1]);
        }
        using (Samples test = source.ReadTest(directory))
            testSet = test.ToTensors();
        var normalisation = Normalise(trainSet, [trainSet, validationSet, testSet]);
        using var black = tensor(normalisation.Mean.Zip(normalisation.Std, (m, s) => -m / s).ToArray()).view(1, -1, 1, 1);
        var labelled = options.Labels is { } budget ? HideLabels(trainSet, source.Classes, budget, options.SplitSeed) : null;
        return new DistillationData
        {
            Info = new DatasetInfo(source.Name, channels, height, width, source.Classes),
            Train = trainSet.ToDevice(device),
            Validation = validationSet.ToDevice(device),
            Test = testSet.ToDevice(device),
            Fingerprint = ComputeFingerprint(directory, source, options),
            Labelled = labelled?.to(device),
            Black = black.to(device),
            Normalisation = normalisation,
        };
    }

    /// <summary>Keeps the labels of the budget's stratified subset of the training split and hides the others; returns the subset's positions.</summary>
    static Tensor HideLabels(ImageSet trainSet, int classes, double budget, int seed)
    {
        var labels = trainSet.Labels.data<long>().Select(l => (int)l).ToArray();
        var labelled = LabelBudget.Labelled(labels, classes, budget, seed);
        var hidden = Enumerable.Repeat(LabelBudget.Hidden, labels.Length).ToArray();
        foreach (long i in labelled) hidden[i] = labels[i];
        using var replaced = tensor(hidden);
        trainSet.Labels.copy_(replaced);
        return tensor(labelled);
    }

    /// <summary>A seeded permutation of the training indices: the first <paramref name="validation"/> become the validation set. Both lists are sorted.</summary>
    public static (long[] Train, long[] Validation) Split(int count, int validation, int seed)
    {
        var order = Enumerable.Range(0, count).Select(i => (long)i).ToArray();
        new Random(seed).Shuffle(order);
        var validationIndices = order[..validation];
        var trainIndices = order[validation..];
        Array.Sort(validationIndices);
        Array.Sort(trainIndices);
        return (trainIndices, validationIndices);
    }

    /// <summary>Normalises every set with the statistics of one; returns a zero pixel normalised, [1, C, 1, 1].</summary>
    static InputNormalisation Normalise(ImageSet statisticsFrom, ImageSet[] sets)
    {
        using var scope = NewDisposeScope();
        var mean = statisticsFrom.Images.mean([0, 2, 3], keepdim: true);
        var std = statisticsFrom.Images.std([0, 2, 3], keepdim: true).clamp_min(1e-6);
        foreach (var set in sets)
            set.Images.sub_(mean).div_(std);
        return new InputNormalisation(mean.data<float>().ToArray(), std.data<float>().ToArray());
    }

    static string ComputeFingerprint(string directory, DatasetSource source, DataOptions options)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (string name in source.Files)
        {
            string? file = DatasetSource.Find(directory, name); // the file the reader read
            if (file is null) continue;
            sha.AppendData(System.Text.Encoding.UTF8.GetBytes(Path.GetFileName(file)));
            sha.AppendData(Convert.FromHexString(FileDigest.Sha256(file)));
        }
        // A tensor file's or image folder's contents (hashed when the trial was read, and checked when they were loaded).
        if (options.Sha256 is { } contents) sha.AppendData(System.Text.Encoding.UTF8.GetBytes($"|contents={contents}|size={options.Size}|layout={options.Layout}"));
        if (options.Label is { } label) sha.AppendData(System.Text.Encoding.UTF8.GetBytes($"|label={label}"));
        sha.AppendData(System.Text.Encoding.UTF8.GetBytes($"|{options.Name}|validation={options.Validation}|seed={options.SplitSeed}"));
        return Convert.ToHexStringLower(sha.GetHashAndReset())[..16];
    }

    public void Dispose()
    {
        Train.Dispose();
        Labelled?.Dispose();
        Black.Dispose();
        Validation.Dispose();
        Test.Dispose();
    }
}
