using System.Globalization;
using Orchestrator.Coordinator.Search;
using YamlDotNet.RepresentationModel;

namespace Orchestrator.Coordinator.Planning;

/// <summary>
/// One swept setting, in Weights &amp; Biases Sweeps syntax: <c>{value: x}</c>, <c>{values: [...]}</c>, or
/// <c>{min, max, distribution: uniform | int_uniform | log_uniform_values}</c> (random search only).
/// </summary>
/// <param name="Name">As written in the file (a shorthand such as <c>alpha</c>, or a path such as <c>student.optimizer.lr</c>).</param>
/// <param name="Path">Where the value goes: the first segment is <c>student</c>, <c>teacher</c>, <c>dataset</c> or <c>soft_targets</c>, the rest are their keys.</param>
/// <param name="Origin">The parameter's key in the file, where errors about generated values point.</param>
/// <param name="Tied">
/// For a tied parameter (<c>pair: { paths: [teacher.model, student.model], values: [[resnet56, resnet20], ...] }</c>),
/// every path it sets, <see cref="Path"/> being the first; each of its values is a list with one element per path.
/// </param>
public sealed record SweepParameter(string Name, IReadOnlyList<string> Path, YamlNode Origin, IReadOnlyList<YamlNode> Values,
    double Min = 0, double Max = 0, string? Distribution = null, IReadOnlyList<IReadOnlyList<string>>? Tied = null)
{
    /// <summary>Every path the parameter sets.</summary>
    public IReadOnlyList<IReadOnlyList<string>> Paths => Tied ?? [Path];

    /// <summary>Whether it sets anything in <paramref name="section"/> (student, teacher, dataset or soft_targets).</summary>
    public bool Sets(string section) => Paths.Any(p => p[0] == section);

    /// <summary>What one of its values sets: the value at its path, or each element of a tied parameter's value at its own path.</summary>
    public IEnumerable<(IReadOnlyList<string> Path, YamlNode Value)> Assignments(YamlNode value) =>
        Tied is null ? [(Path, value)] : Tied.Select((path, i) => (path, ((YamlSequenceNode)value).Children[i]));

    public static readonly string[] Distributions = ["uniform", "int_uniform", "log_uniform_values"];

    /// <summary>W&amp;B-style short names for the settings swept most often.</summary>
    public static readonly IReadOnlyDictionary<string, string> Shorthands = new Dictionary<string, string>
    {
        ["alpha"] = "student.loss.alpha",
        ["temperature"] = "student.loss.temperature",
        ["losses"] = "student.loss.terms",
        ["weights"] = "student.loss.weights",
        ["lr"] = "student.optimizer.lr",
        ["batch_size"] = "student.batch_size",
        ["epochs"] = "student.epochs",
        ["model"] = "student.model",
        ["labels"] = "dataset.labels",
    };

    public bool IsDistribution => Distribution is not null;

    /// <summary>The parameter as a search dimension: its listed values as choices (by index), or its range.</summary>
    public SearchDimension Dimension => Distribution switch
    {
        null => SearchDimension.Categorical(Values.Count),
        "int_uniform" => new SearchDimension(DimensionKind.IntUniform, Min, Max),
        "log_uniform_values" => new SearchDimension(DimensionKind.LogUniform, Min, Max),
        _ => new SearchDimension(DimensionKind.Uniform, Min, Max),
    };

    /// <summary>A value of <see cref="Dimension"/> as the YAML node the trial parser reads: a listed value by its index, or the number.</summary>
    public YamlNode ValueAt(double value) => Distribution switch
    {
        null => Values[(int)value],
        "int_uniform" => new YamlScalarNode(((long)value).ToString(CultureInfo.InvariantCulture)),
        _ => new YamlScalarNode(value.ToString("R", CultureInfo.InvariantCulture)),
    };

    /// <summary>
    /// The value of <see cref="Dimension"/> that a point's parameter shows as <paramref name="shown"/> (as results show
    /// it): a listed value's index, or the number; null when it is none of the listed values or outside the range.
    /// </summary>
    public double? ValueOf(string shown)
    {
        if (Distribution is null)
        {
            int index = Values.ToList().FindIndex(v => SweepPlanner.Show(v) == shown);
            return index >= 0 ? index : null;
        }
        return double.TryParse(shown, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && value >= Min && value <= Max ? value : null;
    }

    /// <summary>One value drawn for random search.</summary>
    public YamlNode Sample(Random random) => ValueAt(Dimension.Uniform(random));
}
