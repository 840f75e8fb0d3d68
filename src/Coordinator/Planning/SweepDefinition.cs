using YamlDotNet.RepresentationModel;

using Orchestrator.Coordinator.Search;

namespace Orchestrator.Coordinator.Planning;

/// <summary>What a sweep optimises: always a validation metric; the test set is only reported.</summary>
/// <param name="Target">metric.target: once a point's mean over its seeds reaches it, points not started yet are not run.</param>
public sealed record SweepMetric(string Name, bool Maximize, double? Target = null);

/// <summary><c>constraints</c>: a point counts (on the Pareto front, as the answer) only when its mean of <see cref="Name"/> is within [Min, Max].</summary>
public sealed record SweepConstraint(string Name, double? Min, double? Max)
{
    public override string ToString() => (Min, Max) switch
    {
        ({ } min, { } max) => $"{min.ToString(System.Globalization.CultureInfo.InvariantCulture)} <= {Name} <= {max.ToString(System.Globalization.CultureInfo.InvariantCulture)}",
        ({ } min, null) => $"{Name} >= {min.ToString(System.Globalization.CultureInfo.InvariantCulture)}",
        _ => $"{Name} <= {Max!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)}",
    };
}

/// <summary>
/// early_terminate: hyperband stopping (<see cref="Hyperband"/>) with bands from <paramref name="MinIter"/>, or from
/// <paramref name="MaxIter"/> and <paramref name="S"/>; <paramref name="Origin"/> is where the file sets it.
/// </summary>
public sealed record EarlyTerminate(int? MinIter, int? MaxIter, int? S, double Eta, bool Strict, string Origin)
{
    /// <summary>The bands for students of at most <paramref name="epochs"/> epochs.</summary>
    public IReadOnlyList<int> Bands(int epochs) => Hyperband.Bands(MinIter, MaxIter, S, Eta, epochs);
}

/// <summary>
/// A parsed, validated sweep file (docs/sweep-file.md). The trial templates stay YAML so that every expanded point is
/// read by the same parser as a trial file, and its errors point at the line of the sweep file that caused them.
/// </summary>
/// <param name="Teacher">One teacher mapping (optionally with count), or a list of them (an ensemble); null without a teacher.</param>
/// <param name="SoftTargets">How students receive the teachers' outputs (aggregation, cached or online, dtype, shards).</param>
/// <param name="Text">The file's text: what a bayes sweep's entity plans its proposed points from.</param>
/// <param name="Baseline">baseline: every distilled student is also trained alone on labels (its baseline, for the gain column); default true.</param>
public sealed record SweepDefinition(
    string Name,
    string File,
    SearchMethod Method,
    SweepMetric Metric,
    IReadOnlyList<SweepParameter> Parameters,
    IReadOnlyList<int> Seeds,
    int? RunCap,
    int MaxTrials,
    int SamplingSeed,
    YamlNode Dataset,
    YamlMappingNode Student,
    YamlNode? Teacher,
    YamlMappingNode? SoftTargets,
    EarlyTerminate? EarlyTerminate = null,
    string Text = "",
    int Pack = SweepDefinition.AutoPack,
    bool Baseline = true)
{
    /// <summary>execution.pack: auto, the default (0, sized per slot by PackSizing.Limits).</summary>
    public const int AutoPack = 0;

    /// <summary>metric given as a list: the objectives after the first (<see cref="Metric"/>), which together make a Pareto front.</summary>
    public IReadOnlyList<SweepMetric> OtherObjectives { get; init; } = [];

    /// <summary>constraints: bounds on the points' means that a point on the front, or the answer, must keep.</summary>
    public IReadOnlyList<SweepConstraint> Constraints { get; init; } = [];

    /// <summary>prior (bayes): the names of earlier sweeps whose finished points the search starts from.</summary>
    public IReadOnlyList<string> Prior { get; init; } = [];
}
