using Orchestrator.Distillation.Training;
using Orchestrator.Tests;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Tests;

/// <summary>What the feature-loss tests (attention transfer, hints) share: zoo trials on a Fashion-MNIST subset, and maps as JSON for PyTorch.</summary>
static class FeatureLossTrials
{
    static readonly Lazy<string> DataRoot = new(() => TestData.FashionMnistSubset(train: 1200, test: 200));

    /// <summary>A trial file of <paramref name="model"/> on 1,200 training images, with <paramref name="extra"/> lines (loss, teacher).</summary>
    public static string Trial(string model, int epochs, string extra = "") => TestData.WriteFile("trial.yaml", $"""
        dataset: {"{"} name: fashion-mnist, data_dir: {DataRoot.Value}, validation: 200 {"}"}
        model: {model}
        epochs: {epochs}
        batch_size: 64
        optimizer: {"{"} name: sgd, lr: 0.05, momentum: 0.9 {"}"}
        seed: 2
        {extra}
        """);

    /// <summary>Everything an epoch measured except wall-clock time.</summary>
    public static object Measured(EpochMetrics m) =>
        (m.Epoch, m.TrainLoss, string.Join(",", m.LossTerms.Select(t => $"{t.Key}={t.Value:R}")), m.ValidationLoss, m.ValidationAccuracy);

    /// <summary>A [B, C, H, W] float64 tensor as nested lists, for the JSON PyTorch reads.</summary>
    public static double[][][][] Nested(Tensor map)
    {
        var values = map.data<double>().ToArray();
        long b = map.shape[0], c = map.shape[1], h = map.shape[2], w = map.shape[3];
        return Enumerable.Range(0, (int)b).Select(n => Enumerable.Range(0, (int)c).Select(ch => Enumerable.Range(0, (int)h).Select(y =>
            Enumerable.Range(0, (int)w).Select(x => values[((n * c + ch) * h + y) * w + x]).ToArray()).ToArray()).ToArray()).ToArray();
    }
}
