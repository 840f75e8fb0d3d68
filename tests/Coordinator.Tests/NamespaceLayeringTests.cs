using System.Text.RegularExpressions;
using Orchestrator.Tests;
using Shouldly;

namespace Orchestrator.Coordinator.Tests;

/// <summary>
/// The orchestrator's namespaces depend one way (docs/cluster.md, "Where the code lives"): a file may name another
/// namespace of the project only below its own. Read from the sources: each file's namespace, its using directives,
/// and every qualified name (<c>Cluster.Scheduler</c>) of a type that namespace defines.
/// </summary>
public sealed partial class NamespaceLayeringTests
{
    /// <summary>Top first; each may use only those after it.</summary>
    static readonly string[] Layers = ["Benchmarks", "Commands", "Api", "Cluster", "State", "Planning", "Search", "Results"];

    [GeneratedRegex(@"^namespace Orchestrator\.Coordinator\.(\w+);", RegexOptions.Multiline)]
    private static partial Regex NamespaceLine();

    [GeneratedRegex(@"^using (?:\w+ = )?Orchestrator\.Coordinator\.(\w+)", RegexOptions.Multiline)]
    private static partial Regex UsingLine();

    [GeneratedRegex(@"(?<![\w.])(\w+)\.([A-Z]\w*)")]
    private static partial Regex QualifiedName();

    [Fact]
    public void Each_namespace_of_the_coordinator_uses_only_the_ones_below_it()
    {
        var types = typeof(OrchestratorCli).Assembly.GetTypes()
            .Where(t => t.Namespace?.StartsWith("Orchestrator.Coordinator.") == true)
            .GroupBy(t => t.Namespace!["Orchestrator.Coordinator.".Length..])
            .ToDictionary(g => g.Key, g => g.Select(t => t.Name.Split('`')[0]).ToHashSet());
        types.Keys.Order().ShouldBe(Layers.Order()); // a new namespace gets a place in the layers

        string root = Path.Combine(TestData.RepositoryRoot(), "src", "Coordinator");
        var wrong = new List<string>();
        foreach (string file in Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories).Where(f => !f.Contains("/obj/") && !f.Contains("/bin/")))
        {
            string text = File.ReadAllText(file);
            if (NamespaceLine().Match(text) is not { Success: true } declared) continue;
            string own = declared.Groups[1].Value;
            var used = UsingLine().Matches(text).Select(m => m.Groups[1].Value)
                .Concat(QualifiedName().Matches(text).Where(m => types.TryGetValue(m.Groups[1].Value, out var names) && names.Contains(m.Groups[2].Value)).Select(m => m.Groups[1].Value));
            foreach (string other in used.Distinct().Where(other => other != own && Array.IndexOf(Layers, other) <= Array.IndexOf(Layers, own)))
                wrong.Add($"{Path.GetRelativePath(root, file)} ({own}) uses {other}");
        }
        wrong.ShouldBeEmpty();
    }
}
