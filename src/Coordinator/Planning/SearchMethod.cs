namespace Orchestrator.Coordinator.Planning;

/// <summary>A sweep's <c>method</c>: every combination of listed values, run_cap points drawn at random, or run_cap points proposed by TPE as slots free up.</summary>
public enum SearchMethod { Grid, Random, Bayes }

public static class SearchMethods
{
    /// <summary>Each method's name in sweep files.</summary>
    public static readonly IReadOnlyDictionary<string, SearchMethod> ByName = new Dictionary<string, SearchMethod>
    {
        ["grid"] = SearchMethod.Grid,
        ["random"] = SearchMethod.Random,
        ["bayes"] = SearchMethod.Bayes,
    };

    public static string Name(this SearchMethod method) => ByName.Single(m => m.Value == method).Key;
}
