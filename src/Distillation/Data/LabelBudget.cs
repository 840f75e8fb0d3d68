namespace Orchestrator.Distillation.Data;

/// <summary>
/// Which training samples keep their labels under a budget (<see cref="DataOptions.Labels"/>): per class the same share
/// of its samples (stratified), at least one, chosen by a seeded shuffle; the others are the unlabelled transfer set.
/// </summary>
public static class LabelBudget
{
    /// <summary>What an unlabelled sample's label reads in the training split: no loss on labels can use it.</summary>
    public const long Hidden = -1;

    /// <summary>A budget as written: a fraction in (0, 1], or a whole number of samples above 1; throws with how to write it.</summary>
    public static void Check(double budget)
    {
        if (!(budget > 0) || double.IsInfinity(budget))
            throw new UserInputException($"{budget} is not a label budget: give a fraction of the training samples in (0, 1], e.g. labels: 0.05, or a number of them, e.g. labels: 500.");
        if (budget > 1 && budget != Math.Floor(budget))
            throw new UserInputException($"{budget} is not a label budget: above 1 it counts samples, so it must be a whole number (or a fraction up to 1).");
    }

    /// <summary>The positions (sorted) of the training samples that keep their labels, given each sample's label.</summary>
    public static long[] Labelled(IReadOnlyList<int> labels, int classes, double budget, int seed)
    {
        Check(budget);
        int total = labels.Count;
        var byClass = Enumerable.Range(0, classes).Select(c => new List<long>()).ToArray();
        for (int i = 0; i < total; i++) byClass[labels[i]].Add(i);
        var present = byClass.Where(c => c.Count > 0).ToList();
        int wanted = budget <= 1 ? (int)Math.Round(budget * total) : (int)budget;
        if (wanted > total)
            throw new UserInputException($"labels: {budget} asks for more labelled samples than the training split's {total}; give at most {total}, or a fraction.");
        wanted = Math.Max(wanted, present.Count);
        var counts = Shares(present.Select(c => c.Count).ToList(), wanted);
        var random = new Random(seed);
        var chosen = new List<long>(wanted);
        for (int c = 0; c < present.Count; c++)
        {
            var members = present[c].ToArray();
            random.Shuffle(members);
            chosen.AddRange(members[..counts[c]]);
        }
        chosen.Sort();
        return chosen.ToArray();
    }

    /// <summary>
    /// <paramref name="wanted"/> split over classes in proportion to their sizes (largest remainders first), each class
    /// at least one and at most all of its samples.
    /// </summary>
    static int[] Shares(IReadOnlyList<int> sizes, int wanted)
    {
        long total = sizes.Sum();
        var exact = sizes.Select(s => (double)wanted * s / total).ToArray();
        var counts = exact.Select((e, c) => Math.Clamp((int)Math.Floor(e), 1, sizes[c])).ToArray();
        foreach (int c in Enumerable.Range(0, sizes.Count).OrderByDescending(c => exact[c] - Math.Floor(exact[c])).ThenBy(c => c))
        {
            if (counts.Sum() >= wanted) break;
            if (counts[c] < sizes[c]) counts[c]++;
        }
        while (counts.Sum() > wanted) // the minimum of one per class took more than the proportions gave: the largest class gives back
            counts[Array.IndexOf(counts, counts.Max())]--;
        return counts;
    }
}
