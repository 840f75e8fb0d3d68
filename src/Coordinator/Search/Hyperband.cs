namespace Orchestrator.Coordinator.Search;

/// <summary>
/// Hyperband early termination as Weights &amp; Biases Sweeps defines it (wandb/sweeps, hyperband_stopping.py): the
/// bands (epochs) at which runs are compared, and the threshold at a band. Pure arithmetic; the sweep's state
/// machine applies it to points.
/// </summary>
public static class Hyperband
{
    /// <summary>W&amp;B's default eta: keep the best third at each band.</summary>
    public const double DefaultEta = 3;

    /// <summary>
    /// The bands: with <paramref name="minIter"/>, min_iter * eta^k for k = 0, 1, ... up to <paramref name="epochs"/>
    /// (the longest student); with <paramref name="maxIter"/> and <paramref name="s"/>, int(max_iter / eta^k) for k = 1..s.
    /// Ascending, each once, none below 1.
    /// </summary>
    public static IReadOnlyList<int> Bands(int? minIter, int? maxIter, int? s, double eta, int epochs)
    {
        var bands = new SortedSet<int>();
        if (minIter is { } first)
            for (double band = first; band <= epochs; band *= eta) bands.Add((int)band);
        else
            for (int k = 1; k <= s; k++)
                if ((int)(maxIter!.Value / Math.Pow(eta, k)) is >= 1 and var band) bands.Add(band);
        return [.. bands];
    }

    /// <summary>
    /// The value a point must not be worse than at a band where <paramref name="values"/> were reached: the one at
    /// index floor(n / eta) of the values sorted best first, so that about the best 1/eta stay (of 3, with eta 3, the
    /// best 2: a point equal to the threshold stays, as in W&amp;B).
    /// </summary>
    public static double Threshold(IReadOnlyCollection<double> values, double eta, bool maximize)
    {
        if (values.Count == 0) throw new ArgumentException("no values at this band", nameof(values));
        var sorted = maximize ? values.OrderDescending() : values.Order();
        return sorted.ElementAt((int)Math.Floor(values.Count / eta));
    }

    /// <summary>Whether <paramref name="value"/> is strictly worse than <paramref name="threshold"/>.</summary>
    public static bool Worse(double value, double threshold, bool maximize) => maximize ? value < threshold : value > threshold;
}
