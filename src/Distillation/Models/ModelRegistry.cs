using Orchestrator.Distillation.Data;
using static Orchestrator.Distillation.Models.ConvNet;

namespace Orchestrator.Distillation.Models;

/// <summary>
/// The architectures a trial can name. MLPs are named by their hidden widths (<c>mlp-1200-1200</c> is
/// 784-1200-1200-10 on 28x28 images); the convolutional pairs come from the studies in docs/EXPERIMENTS.md.
/// </summary>
public static class ModelRegistry
{
    static readonly Layer P = Layer.Pool;
    static Layer C(int channels) => new(channels);

    sealed record ConvDefinition(string Description, Layer[] Conv, bool BatchNorm, int[] FullyConnected, double Dropout);

    static readonly Dictionary<string, ConvDefinition> ConvNets = new()
    {
        // The BatchNorm CNN pair of the triplet-KD study (teacher conv 3-32-32-64-64-128, fc 2048-512-128-10; student conv 3-32-32-64, fc 1024-128-10).
        ["bncnn-teacher"] = new("BatchNorm CNN teacher (triplet-KD study)", [C(32), C(32), P, C(64), C(64), P, C(128), P], true, [512, 128], 0.5),
        ["bncnn-student"] = new("BatchNorm CNN student (triplet-KD study)", [C(32), P, C(32), P, C(64), P], true, [128], 0.5),
        // The PyTorch knowledge-distillation tutorial's DeepNN teacher and LightNN student.
        ["deepnn"] = new("PyTorch KD tutorial teacher", [C(128), C(64), P, C(64), C(32), P], false, [512], 0.1),
        ["lightnn"] = new("PyTorch KD tutorial student", [C(16), P, C(16), P], false, [256], 0.1),
        // AlexNet's layer plan (5 convolutions, 3 pools, 2 hidden fc layers) scaled to 32x32 inputs, with 3x3 kernels throughout.
        ["alexnet"] = new("AlexNet-style CIFAR teacher", [C(64), P, C(192), P, C(384), C(256), C(256), P], false, [1024, 512], 0.5),
    };

    public static IEnumerable<string> Names => ConvNets.Keys.Prepend("mlp-<width>[-<width>...]");

    /// <summary>Checks the name and options without building anything, so a bad file fails before data is loaded.</summary>
    public static void Validate(ModelSpec spec)
    {
        if (spec.Dropout is < 0 or >= 1)
            throw new UserInputException($"model '{spec.Name}': dropout {spec.Dropout} must be in [0, 1).");
        if (spec.Name.StartsWith("mlp-", StringComparison.Ordinal))
            ParseWidths(spec.Name);
        else if (!ConvNets.ContainsKey(spec.Name))
            throw new UserInputException(
                $"unknown model '{spec.Name}'{Suggest.Nearest(spec.Name, ConvNets.Keys.Append("mlp-400").Append("mlp-1200-1200"))}; " +
                $"known models: {string.Join(", ", Names)}.");
    }

    public static Classifier Create(ModelSpec spec, DatasetInfo data)
    {
        Validate(spec);
        if (spec.Name.StartsWith("mlp-", StringComparison.Ordinal))
            return new Mlp(data.Features, ParseWidths(spec.Name), data.Classes, spec.Dropout ?? 0);
        var conv = ConvNets[spec.Name];
        if (data.Height != data.Width)
            throw new UserInputException($"model '{spec.Name}' expects square images; dataset '{data.Name}' has {data.Height}x{data.Width}.");
        return new ConvNet(spec.Name, data.Channels, data.Height, conv.Conv, conv.BatchNorm, conv.FullyConnected, spec.Dropout ?? conv.Dropout, data.Classes);
    }

    /// <summary>The widest hidden layer and the most of them: a 784-65536-10 MLP is already 52M parameters; beyond, a typo, not a student.</summary>
    public const int MaxWidth = 65_536, MaxLayers = 16;

    /// <summary>
    /// The most weights an MLP's hidden layers may hold between them: 500M weights are 2 GB in float32 and about 8 GB
    /// to train with Adam (weights, gradients, two moments), an H200's share for one slot, not a machine's.
    /// </summary>
    public const long MaxHiddenWeights = 500_000_000;

    static int[] ParseWidths(string name)
    {
        var parts = name["mlp-".Length..].Split('-');
        if (parts.Length > MaxLayers) throw new UserInputException($"model '{name}': {parts.Length} hidden layers; at most {MaxLayers}.");
        var widths = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], out widths[i]) || widths[i] is <= 0 or > MaxWidth)
                throw new UserInputException($"model '{name}': '{parts[i]}' is not a layer width between 1 and {MaxWidth}; write e.g. mlp-400 or mlp-1200-1200.");
        long weights = widths.Zip(widths.Skip(1), (a, b) => (long)a * b).Sum();
        if (weights > MaxHiddenWeights)
            throw new UserInputException($"model '{name}': its hidden layers alone hold {weights:N0} weights ({weights * 4 / 1e9:N0} GB in float32, about four times that to train); " +
                                         $"at most {MaxHiddenWeights:N0}.");
        return widths;
    }
}
