using System.Globalization;
using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.Results;

/// <summary>
/// The numbers a sweep can optimise (<c>metric</c>) and bound (<c>constraints</c>), each read from a trained student's
/// summary: its validation accuracy and loss (never a test number), and what the model costs (<see cref="ModelCost"/>,
/// measured by the node that trained it). A number the summary lacks (a TorchScript model's MACs) is NaN.
/// </summary>
public static class Measures
{
    /// <param name="Epochs">Whether each epoch reports it too, so early termination, bayes search and metric.target can use it.</param>
    sealed record Measure(string Name, bool Maximize, bool Epochs, string Format, string Description, Func<TrialSummary, double> Read);

    static readonly Measure[] All =
    [
        new("val_accuracy", true, true, "P2", "validation accuracy of the chosen epoch", s => s.BestValidationAccuracy),
        new("val_loss", false, true, "F4", "validation loss of the chosen epoch", s => s.BestValidationLoss),
        new("params", false, false, "N0", "parameters", s => s.Parameters > 0 ? s.Parameters : double.NaN),
        new("macs", false, false, "N0", "multiply-accumulates per sample", s => s.Cost is { HasMultiplyAccumulates: true } c ? c.MultiplyAccumulates : double.NaN),
        new("bytes_f32", false, false, "N0", "bytes of weights in float32", s => s.Cost?.BytesFloat32 ?? double.NaN),
        new("bytes_f16", false, false, "N0", "bytes of weights in float16", s => s.Cost?.BytesFloat16 ?? double.NaN),
        new("latency_ms", false, false, "F3", "inference latency at batch 1, ms", s => s.Cost?.LatencyMsBatch1 ?? double.NaN),
        new("latency_ms_b256", false, false, "F3", "inference latency at batch 256, ms", s => s.Cost?.LatencyMsBatch256 ?? double.NaN),
    ];

    public static IReadOnlyList<string> Names { get; } = All.Select(m => m.Name).ToList();

    /// <summary>The measures each epoch reports too: what the first objective must be.</summary>
    public static IReadOnlyList<string> EpochNames { get; } = All.Where(m => m.Epochs).Select(m => m.Name).ToList();

    public static bool Known(string name) => All.Any(m => m.Name == name);

    /// <summary>Whether more is better by default (accuracy), or less (loss and every cost).</summary>
    public static bool Maximize(string name) => Get(name).Maximize;

    public static string Describe(string name) => Get(name).Description;

    public static double Of(TrialSummary summary, string name) => Get(name).Read(summary);

    /// <summary>A value as every table prints it: an accuracy in percent, a loss to 4 places, a count in thousands, a latency in ms.</summary>
    public static string Format(string name, double value) =>
        double.IsNaN(value) ? "n/a" : value.ToString(Known(name) ? Get(name).Format : "G4", CultureInfo.InvariantCulture);

    static Measure Get(string name) => All.FirstOrDefault(m => m.Name == name) ?? throw new ArgumentException($"not a measure: {name}", nameof(name));
}
