using YamlDotNet.RepresentationModel;

namespace Orchestrator.Coordinator.Sweeps;

/// <summary>What a sweep optimises: always a validation metric; the test set is only reported.</summary>
public sealed record SweepMetric(string Name, bool Maximize)
{
    public static readonly string[] Names = ["val_accuracy", "val_loss"];
}

/// <summary>
/// A parsed, validated sweep file (docs/sweep-file.md). The trial templates stay YAML so that every expanded point is
/// read by the same parser as a trial file, and its errors point at the line of the sweep file that caused them.
/// </summary>
/// <param name="Teacher">One teacher mapping (optionally with count), or a list of them (an ensemble); null without a teacher.</param>
/// <param name="SoftTargets">How students receive the teachers' outputs (aggregation, cached or online, dtype, shards).</param>
public sealed record SweepDefinition(
    string Name,
    string File,
    string Method,
    SweepMetric Metric,
    IReadOnlyList<SweepParameter> Parameters,
    IReadOnlyList<int> Seeds,
    int? RunCap,
    int MaxTrials,
    int SamplingSeed,
    YamlNode Dataset,
    YamlMappingNode Student,
    YamlNode? Teacher,
    YamlMappingNode? SoftTargets);
