using Orchestrator.Distillation.Data;

namespace Orchestrator.Distillation.Configuration;

/// <summary>
/// A trial's dataset section: a dataset by name (<c>dataset: fashion-mnist</c>, or <c>{ name, data_dir }</c>) or the
/// user's tensor files (<c>{ train: data/train.npz, test: data/test.npz }</c>), with its validation split and label
/// budget. Tensor files are opened and checked here, so a bad file fails at its line, and hashed, so that the trial's
/// identity names their contents.
/// </summary>
public static class DatasetSection
{
    /// <summary>The dataset section of a trial file or sweep point.</summary>
    public static (DataOptions Options, DatasetSource Source) Of(ConfigMap root) =>
        Read(root.Section("dataset", shorthandKey: "name") ?? throw root.Error("dataset", "missing; e.g. dataset: fashion-mnist, or dataset: { train: data/train.npz, test: data/test.npz }"));

    /// <summary>The section itself (a sweep's dataset mapping, dataset: fashion-mnist read as { name: fashion-mnist }).</summary>
    public static (DataOptions Options, DatasetSource Source) Read(ConfigMap dataset)
    {
        var (options, source) = dataset.Node("images") is not null ? ImageFolder(dataset)
            : dataset.Node("train") is not null || dataset.Node("test") is not null ? TensorFiles(dataset)
            : Named(dataset);
        options = options with
        {
            Validation = dataset.Int("validation") ?? source.DefaultValidation,
            SplitSeed = dataset.Int("split_seed") ?? 0,
            Labels = ReadLabelBudget(dataset),
        };
        int published = source.TrainSamples;
        if (options.Validation <= 0 || options.Validation >= published)
            throw dataset.Error("validation", $"must be a positive number of training samples held out for validation, below {options.Name}'s {published:N0} " +
                                              $"(its default is {source.DefaultValidation:N0}).");
        if (options.Labels > published - options.Validation)
            throw dataset.Error("labels", $"{options.Labels} labelled samples is more than the {published - options.Validation:N0} training samples left after validation; give fewer, or a fraction.");
        dataset.RejectUnknownKeys();
        return (options, source);
    }

    static (DataOptions, DatasetSource) Named(ConfigMap dataset)
    {
        string name = dataset.String("name") ?? throw dataset.Error("name", "missing; e.g. name: fashion-mnist, or train: and test: tensor files");
        if (!DatasetRegistry.Names.Contains(name))
            throw dataset.Error("name", $"unknown dataset '{name}'{Suggest.Nearest(name, DatasetRegistry.Names)}; known: {string.Join(", ", DatasetRegistry.Names)}, " +
                                        "or your own tensor files as train: and test:, or an image folder as images: (docs/datasets.md).");
        string? label = dataset.String("label");
        if (label is not null && name != "cifar100") throw dataset.Error("label", $"only cifar100 has a choice of labels (fine or coarse); {name} has one.");
        if (label is not null && !Cifar100Source.Labels.Contains(label))
            throw dataset.Error("label", $"'{label}' is not a CIFAR-100 label; write fine (100 classes) or coarse (20 superclasses).");
        var options = new DataOptions(name, dataset.PathAt("data_dir"), Label: label == "fine" ? null : label);
        return (options, DatasetRegistry.Get(options));
    }

    static (DataOptions, DatasetSource) TensorFiles(ConfigMap dataset)
    {
        string train = dataset.PathAt("train") ?? throw dataset.Error("train", "missing: a dataset of tensor files names both, e.g. { train: data/train.npz, test: data/test.npz }.");
        string test = dataset.PathAt("test") ?? throw dataset.Error("test", "missing: a dataset of tensor files names both, e.g. { train: data/train.npz, test: data/test.npz }.");
        if (dataset.Node("data_dir") is not null) throw dataset.Error("data_dir", "is for named datasets; tensor files are named by their own paths.");
        string? layout = dataset.String("layout");
        if (layout is not (null or "NCHW" or "NHWC")) throw dataset.Error("layout", $"'{layout}' is not a layout; write NCHW or NHWC.");
        var options = new DataOptions(dataset.String("name") ?? TensorFileSource.NameOf(train), Train: train, Test: test, Layout: layout);
        var source = new TensorFileSource(options);
        dataset.Check("train", () => _ = source.TrainSamples); // opens and checks both files' headers
        return (options with { Sha256 = dataset.Check("train", () => TensorFileSource.ContentSha256(train, test)) }, source);
    }

    static (DataOptions, DatasetSource) ImageFolder(ConfigMap dataset)
    {
        string folder = dataset.PathAt("images")!;
        int size = dataset.Int("size") ?? throw dataset.Error("size", "missing: the side images are resized to, e.g. size: 32 (CIFAR's) or 64.");
        if (size is < 4 or > ImageFolderSource.MaxSize) throw dataset.Error("size", $"{size} pixels: give between 4 and {ImageFolderSource.MaxSize}.");
        foreach (string key in new[] { "train", "test", "data_dir", "layout" })
            if (dataset.Node(key) is not null) throw dataset.Error(key, "is not read for an image folder: images names the folder (of class folders, or of train/ and test/).");
        var options = new DataOptions(dataset.String("name") ?? ImageFolderSource.NameOf(folder), Images: folder, Size: size);
        var source = new ImageFolderSource(options);
        return (options with { Sha256 = dataset.Check("images", source.ContentSha256) }, source);
    }

    /// <summary>dataset.labels: a fraction (at most 1) or a count of training samples that keep their labels; 1 (every label) is no budget.</summary>
    static double? ReadLabelBudget(ConfigMap dataset)
    {
        double? budget = dataset.Double("labels");
        if (budget is { } b) dataset.Check("labels", () => LabelBudget.Check(b));
        return budget == 1 ? null : budget;
    }
}
