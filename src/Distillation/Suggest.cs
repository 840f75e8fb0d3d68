namespace Orchestrator.Distillation;

/// <summary>"Did you mean" hints for misspelt names, by edit distance.</summary>
public static class Suggest
{
    /// <summary>" (did you mean 'x'?)" when a known name is within a third of the input's length in edits, else "".</summary>
    public static string Nearest(string input, IEnumerable<string> known)
    {
        var best = known.Select(k => (Name: k, Distance: EditDistance(input.ToLowerInvariant(), k.ToLowerInvariant())))
            .OrderBy(x => x.Distance).FirstOrDefault();
        return best.Name is not null && best.Distance <= Math.Max(2, input.Length / 3) ? $" (did you mean '{best.Name}'?)" : "";
    }

    static int EditDistance(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        for (int i = 1; i <= a.Length; i++)
        {
            var current = new int[b.Length + 1];
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            previous = current;
        }
        return previous[b.Length];
    }
}
