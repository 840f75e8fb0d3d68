namespace Orchestrator.Coordinator.Search;

/// <summary>How a dimension of a search space is sampled: a list of choices, or a range (W&amp;B's distributions).</summary>
public enum DimensionKind { Categorical, Uniform, LogUniform, IntUniform }

/// <summary>One parameter of a search space: <paramref name="Choices"/> values, or a range [<paramref name="Low"/>, <paramref name="High"/>].</summary>
public sealed record SearchDimension(DimensionKind Kind, double Low = 0, double High = 0, int Choices = 0)
{
    public static SearchDimension Categorical(int choices) => new(DimensionKind.Categorical, Choices: choices);

    /// <summary>Where the estimator works: log space for a log-uniform range, ±0.5 around an integer range's ends.</summary>
    internal (double Low, double High) Internal => Kind switch
    {
        DimensionKind.LogUniform => (Math.Log(Low), Math.Log(High)),
        DimensionKind.IntUniform => (Low - 0.5, High + 0.5),
        _ => (Low, High),
    };

    /// <summary>A value in the estimator's space as the parameter's value: a choice's index, an integer, a real.</summary>
    internal double External(double value) => Kind switch
    {
        DimensionKind.LogUniform => Math.Clamp(Math.Exp(value), Low, High),
        DimensionKind.IntUniform => Math.Clamp(Math.Round(value), Low, High),
        _ => value,
    };

    internal double ToInternal(double value) => Kind == DimensionKind.LogUniform ? Math.Log(value) : value;

    /// <summary>A uniform draw, as random search makes it (a value in the parameter's own terms).</summary>
    public double Uniform(Random random) => Kind switch
    {
        DimensionKind.Categorical => random.Next(Choices),
        DimensionKind.IntUniform => Math.Floor(Low + random.NextDouble() * (High - Low + 1)),
        DimensionKind.LogUniform => Math.Exp(Math.Log(Low) + random.NextDouble() * (Math.Log(High) - Math.Log(Low))),
        _ => Low + random.NextDouble() * (High - Low),
    };
}

/// <summary>A finished point: its values (a choice's index for a categorical dimension) and its objective.</summary>
public sealed record Observation(IReadOnlyList<double> Point, double Value);

/// <summary>A finished point of a search with several objectives: its values and each objective's.</summary>
public sealed record Observations(IReadOnlyList<double> Point, IReadOnlyList<double> Values);

/// <summary>
/// The Tree-structured Parzen Estimator as Optuna's TPESampler runs it by default, multivariate: the first
/// <see cref="StartupPoints"/> points are drawn uniformly; after that the finished points are split into the best
/// gamma(n) = min(ceil(0.1 n), 25) and the rest, each side becomes a mixture of one kernel per point plus a prior
/// (a truncated Gaussian per range, in log space for log ranges; for a list of choices, the point's choice with
/// the prior's share spread over all), <see cref="Candidates"/> candidates are drawn from the good side's mixture,
/// and the one with the largest l(x) / g(x) is proposed. Points still running count as the worst (a constant liar),
/// so parallel proposals spread out instead of piling onto one spot. Deterministic given its inputs and the random source.
/// </summary>
public sealed class TreeParzenEstimator(IReadOnlyList<SearchDimension> space)
{
    public const int StartupPoints = 10, Candidates = 24, MaxGood = 25;
    const double PriorWeight = 1.0, BandwidthMagnitude = 0.2;

    public IReadOnlyList<SearchDimension> Space { get; } = space;

    /// <summary>How many of <paramref name="n"/> points form the good side.</summary>
    public static int Gamma(int n) => Math.Min((int)Math.Ceiling(0.1 * n), MaxGood);

    /// <summary>The next point to try, given the finished points (in the order they finished) and those still running.</summary>
    public double[] Propose(IReadOnlyList<Observation> finished, IReadOnlyList<IReadOnlyList<double>> running, bool maximize, Random random)
    {
        if (finished.Count < StartupPoints) return Space.Select(d => d.Uniform(random)).ToArray();
        // Best first; running points last (the liar's worst value); ties keep their order of finishing.
        var ordered = finished.Select((o, i) => (Point: o.Point, Value: maximize ? -o.Value : o.Value, Order: i))
            .Concat(running.Select((p, i) => (Point: p, Value: double.PositiveInfinity, Order: finished.Count + i)))
            .OrderBy(o => o.Value).ThenBy(o => o.Order).ToList();
        int good = Gamma(ordered.Count);
        return ProposeBetween(ordered.Take(good).OrderBy(o => o.Order).Select(o => o.Point).ToList(),
            ordered.Skip(good).OrderBy(o => o.Order).Select(o => o.Point).ToList(), random);
    }

    /// <summary>
    /// Multi-objective TPE (Ozaki et al. 2020), as Optuna's TPESampler runs it for several objectives: the same as
    /// <see cref="Propose"/>, except that the good side is the best gamma(n) points by Pareto rank (non-dominated
    /// sorting), the rank that does not fit whole filled greedily by hypervolume contribution (two objectives; with
    /// more, by order of finishing). Points still running count as dominated by every finished one.
    /// </summary>
    public double[] Propose(IReadOnlyList<Observations> finished, IReadOnlyList<IReadOnlyList<double>> running, IReadOnlyList<bool> maximize, Random random)
    {
        if (finished.Count < StartupPoints) return Space.Select(d => d.Uniform(random)).ToArray();
        // Every objective as a loss (minimised), as Optuna orients them.
        var losses = finished.Select(o => o.Values.Select((v, k) => maximize[k] ? -v : v).ToArray()).ToList();
        var ranks = Results.ParetoFront.Ranks(losses, losses[0].Select(_ => false).ToList());
        int good = Gamma(finished.Count + running.Count);
        var chosen = new List<int>();
        foreach (var rank in Enumerable.Range(0, finished.Count).Where(i => ranks[i] > 0).GroupBy(i => ranks[i]).OrderBy(g => g.Key))
        {
            var members = rank.ToList();
            if (chosen.Count + members.Count <= good) chosen.AddRange(members);
            else
            {
                chosen.AddRange(losses[0].Length == 2 ? Hypervolume.GreedySubset(members.Select(i => losses[i]).ToList(), good - chosen.Count).Select(j => members[j])
                    : members.Take(good - chosen.Count));
                break;
            }
        }
        var below = chosen.Order().Select(i => finished[i].Point).ToList();
        var above = Enumerable.Range(0, finished.Count).Where(i => !chosen.Contains(i)).Select(i => finished[i].Point).Concat(running).ToList();
        return ProposeBetween(below, above, random);
    }

    /// <summary>The candidate drawn from the good side's mixture with the largest l(x) / g(x), in the parameters' own terms.</summary>
    double[] ProposeBetween(IReadOnlyList<IReadOnlyList<double>> good, IReadOnlyList<IReadOnlyList<double>> bad, Random random)
    {
        var below = new ParzenEstimator(Space, good);
        var above = new ParzenEstimator(Space, bad);
        double[]? best = null;
        double bestScore = double.NegativeInfinity;
        for (int i = 0; i < Candidates; i++)
        {
            var candidate = below.Sample(random);
            double score = below.LogDensity(candidate) - above.LogDensity(candidate);
            if (best is null || score > bestScore) (best, bestScore) = (candidate, score);
        }
        return best!.Select((value, d) => Space[d].Kind == DimensionKind.Categorical ? value : Space[d].External(value)).ToArray();
    }

    /// <summary>
    /// A mixture of product kernels, one per point (weighted as Optuna does: equal for up to 25, older ones ramped
    /// down beyond) and one prior (each range's centre with its width as sigma; every choice alike), in the estimator's space.
    /// </summary>
    sealed class ParzenEstimator
    {
        readonly IReadOnlyList<SearchDimension> space;
        readonly double[] logWeights, weights;
        /// <summary>Per component and dimension: a Gaussian (mu, sigma) or, for a choice, the log-probability of each choice.</summary>
        readonly (double Mu, double Sigma, double[]? LogChoices)[][] kernels;

        public ParzenEstimator(IReadOnlyList<SearchDimension> space, IReadOnlyList<IReadOnlyList<double>> points)
        {
            this.space = space;
            int n = points.Count;
            var raw = Weights(n).Append(PriorWeight).ToArray();
            double total = raw.Sum();
            weights = raw.Select(w => w / total).ToArray();
            logWeights = weights.Select(w => Math.Log(w)).ToArray();
            kernels = new (double, double, double[]?)[n + 1][];
            double shrink = BandwidthMagnitude * Math.Pow(Math.Max(n, 1), -1.0 / (space.Count + 4));
            for (int k = 0; k <= n; k++)
            {
                kernels[k] = new (double, double, double[]?)[space.Count];
                for (int d = 0; d < space.Count; d++)
                {
                    var dimension = space[d];
                    if (dimension.Kind == DimensionKind.Categorical)
                    {
                        double share = PriorWeight / (n + 1);
                        var probabilities = Enumerable.Repeat(share, dimension.Choices).ToArray();
                        if (k < n) probabilities[(int)points[k][d]] += 1;
                        double sum = probabilities.Sum();
                        kernels[k][d] = (0, 0, probabilities.Select(p => Math.Log(p / sum)).ToArray());
                        continue;
                    }
                    var (low, high) = dimension.Internal;
                    kernels[k][d] = k < n
                        ? (Math.Clamp(dimension.ToInternal(points[k][d]), low, high), Math.Max(shrink * (high - low), 1e-12), null)
                        : ((low + high) / 2, high - low, null);
                }
            }
        }

        /// <summary>Optuna's default: all 1 for up to 25 points; beyond, the oldest ramp linearly from 1/n up to 1.</summary>
        static IEnumerable<double> Weights(int n)
        {
            if (n <= MaxGood) return Enumerable.Repeat(1.0, n);
            int ramp = n - MaxGood;
            return Enumerable.Range(0, ramp).Select(i => 1.0 / n + (1 - 1.0 / n) * i / Math.Max(ramp - 1, 1)).Concat(Enumerable.Repeat(1.0, MaxGood));
        }

        public double[] Sample(Random random)
        {
            double u = random.NextDouble(), cumulative = 0;
            int component = weights.Length - 1;
            for (int k = 0; k < weights.Length; k++)
                if ((cumulative += weights[k]) > u) { component = k; break; }
            var point = new double[space.Count];
            for (int d = 0; d < space.Count; d++)
            {
                var (mu, sigma, choices) = kernels[component][d];
                point[d] = choices is not null ? Choose(choices, random) : TruncatedNormal(mu, sigma, space[d].Internal, random);
            }
            return point;
        }

        public double LogDensity(double[] point)
        {
            var terms = new double[weights.Length];
            for (int k = 0; k < weights.Length; k++)
            {
                double sum = logWeights[k];
                for (int d = 0; d < space.Count; d++)
                {
                    var (mu, sigma, choices) = kernels[k][d];
                    sum += choices is not null ? choices[(int)point[d]] : TruncatedNormalLogPdf(point[d], mu, sigma, space[d].Internal);
                }
                terms[k] = sum;
            }
            double max = terms.Max();
            return max + Math.Log(terms.Sum(t => Math.Exp(t - max)));
        }

        static double Choose(double[] logProbabilities, Random random)
        {
            double u = random.NextDouble(), cumulative = 0;
            for (int i = 0; i < logProbabilities.Length; i++)
                if ((cumulative += Math.Exp(logProbabilities[i])) > u) return i;
            return logProbabilities.Length - 1;
        }
    }

    /// <summary>A normal draw kept within the range by rejection (the mean is inside it and sigma at most its width: at least a third is accepted).</summary>
    static double TruncatedNormal(double mu, double sigma, (double Low, double High) range, Random random)
    {
        for (int tries = 0; tries < 1000; tries++)
        {
            double x = mu + sigma * StandardNormal(random);
            if (x >= range.Low && x <= range.High) return x;
        }
        return Math.Clamp(mu, range.Low, range.High);
    }

    static double StandardNormal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    static double TruncatedNormalLogPdf(double x, double mu, double sigma, (double Low, double High) range)
    {
        double z = (x - mu) / sigma;
        double mass = NormalCdf((range.High - mu) / sigma) - NormalCdf((range.Low - mu) / sigma);
        return -0.5 * z * z - Math.Log(sigma * Math.Sqrt(2 * Math.PI)) - Math.Log(Math.Max(mass, 1e-300));
    }

    static double NormalCdf(double z) => 0.5 * Erfc(-z / Math.Sqrt(2));

    /// <summary>The complementary error function (Numerical Recipes' Chebyshev fit, relative error under 1.2e-7).</summary>
    static double Erfc(double x)
    {
        double z = Math.Abs(x), t = 1 / (1 + 0.5 * z);
        double r = t * Math.Exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 +
            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? r : 2 - r;
    }
}
