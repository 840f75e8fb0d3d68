using System.Globalization;

namespace Orchestrator.Coordinator.Results;

/// <summary>
/// Which parameters mattered: PED-ANOVA (Watanabe et al., IJCAI 2023), as Optuna's PedAnovaImportanceEvaluator
/// computes it, over a sweep's points (means over seeds). A parameter's importance is the Pearson divergence between
/// the distribution of its values among the best 10 % of the points and among all of them: how much knowing that a
/// point is good tells about that parameter. Numbers get a Gaussian kernel density on 50 steps of their range (in log
/// space when they span more than a factor of 100), choices their smoothed frequencies. Chosen over fANOVA because it
/// needs no random forest: it is closed-form per parameter, fast at any number of points, and explains what drives
/// the good region, which is the question a sweep asks. The importances are normalised to sum to 1.
/// </summary>
public static class ParameterImportance
{
    public const double TopQuantile = 0.1;
    public const int MinPoints = 10, Steps = 50;

    /// <summary>Each parameter that varies with its importance, most important first; empty below <see cref="MinPoints"/> points.</summary>
    public static IReadOnlyList<(string Parameter, double Importance)> Of(IReadOnlyList<SweepResults.Recipe> points, bool maximize)
    {
        if (points.Count < MinPoints) return [];
        var ordered = (maximize ? points.OrderByDescending(p => p.MetricMean) : points.OrderBy(p => p.MetricMean)).ToList();
        int top = Math.Max(2, (int)Math.Ceiling(TopQuantile * ordered.Count));
        var names = points.SelectMany(p => p.Parameters.Keys).Distinct().Order(StringComparer.Ordinal).ToList();
        var raw = names.Select(name => (Name: name, Values: ordered.Select(p => p.Parameters.GetValueOrDefault(name, "")).ToList()))
            .Where(p => p.Values.Distinct().Count() > 1)
            .Select(p => (p.Name, Divergence: Divergence(p.Values, top))).ToList();
        double total = raw.Sum(r => r.Divergence);
        return raw.Select(r => (r.Name, total > 0 ? r.Divergence / total : 0)).OrderByDescending(r => r.Item2).ThenBy(r => r.Name, StringComparer.Ordinal).ToList();
    }

    /// <summary>Pearson divergence of the top points' distribution of the values from all points': sum of p_all (p_top / p_all - 1)^2.</summary>
    static double Divergence(IReadOnlyList<string> values, int top)
    {
        var numbers = values.Select(v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) ? d : double.NaN).ToList();
        var (all, best) = numbers.Any(double.IsNaN) || numbers.Distinct().Count() <= 3
            ? (Frequencies(values, values), Frequencies(values.Take(top).ToList(), values))
            : (Density(numbers, numbers), Density(numbers.Take(top).ToList(), numbers));
        return all.Zip(best, (a, b) => a * Math.Pow(b / a - 1, 2)).Sum();
    }

    /// <summary>Each choice's share among <paramref name="values"/>, with one pseudo-count spread over the choices (so none is 0).</summary>
    static double[] Frequencies(IReadOnlyList<string> values, IReadOnlyList<string> every)
    {
        var choices = every.Distinct().Order(StringComparer.Ordinal).ToList();
        return choices.Select(c => (values.Count(v => v == c) + 1.0 / choices.Count) / (values.Count + 1)).ToArray();
    }

    /// <summary>A Gaussian kernel density of <paramref name="sample"/> on <see cref="Steps"/> points of the range of <paramref name="every"/>, normalised.</summary>
    static double[] Density(IReadOnlyList<double> sample, IReadOnlyList<double> every)
    {
        bool log = every.Min() > 0 && every.Max() / every.Min() > 100;
        var xs = sample.Select(x => log ? Math.Log(x) : x).ToList();
        var range = every.Select(x => log ? Math.Log(x) : x).ToList();
        double low = range.Min(), high = range.Max(), width = high - low;
        // Scott's rule on the sample, kept within a fiftieth and the whole of the range.
        double mean = xs.Average(), std = Math.Sqrt(xs.Sum(x => (x - mean) * (x - mean)) / Math.Max(1, xs.Count - 1));
        double bandwidth = Math.Clamp(1.06 * std * Math.Pow(xs.Count, -0.2), width / Steps, width);
        var grid = Enumerable.Range(0, Steps).Select(i => low + width * i / (Steps - 1));
        var density = grid.Select(g => xs.Sum(x => Math.Exp(-0.5 * Math.Pow((g - x) / bandwidth, 2))) + 1e-12).ToArray();
        double sum = density.Sum();
        return density.Select(d => d / sum).ToArray();
    }
}
