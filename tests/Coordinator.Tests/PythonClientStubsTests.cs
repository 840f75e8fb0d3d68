using System.Diagnostics;
using Orchestrator.Tests;
using Shouldly;

namespace Orchestrator.Coordinator.Tests;

/// <summary>The Python client's committed gRPC stubs are what clients/python/generate-stubs.sh makes of today's protos.</summary>
public sealed class PythonClientStubsTests
{
    [Fact]
    public async Task The_committed_stubs_match_the_protos()
    {
        string package = Path.Combine(TestData.RepositoryRoot(), "clients", "python");
        string fresh = Path.Combine(TestData.TemporaryDirectory(), "_proto");
        var info = new ProcessStartInfo(Path.Combine(package, "generate-stubs.sh")) { RedirectStandardError = true, ArgumentList = { fresh } };
        using (var generate = Process.Start(info)!)
        {
            string error = await generate.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            await generate.WaitForExitAsync(TestContext.Current.CancellationToken);
            generate.ExitCode.ShouldBe(0, error);
        }
        string committed = Path.Combine(package, "src", "orchestrator_client", "_proto");
        static IEnumerable<string> Files(string root) =>
            Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Where(f => !f.Contains("__pycache__")).Select(f => Path.GetRelativePath(root, f)).Order();
        Files(committed).ShouldBe(Files(fresh));
        foreach (string file in Files(fresh))
            (await File.ReadAllTextAsync(Path.Combine(committed, file), TestContext.Current.CancellationToken))
                .ShouldBe(await File.ReadAllTextAsync(Path.Combine(fresh, file), TestContext.Current.CancellationToken),
                    $"{file} differs from what the protos give: run clients/python/generate-stubs.sh and commit the result");
    }
}
