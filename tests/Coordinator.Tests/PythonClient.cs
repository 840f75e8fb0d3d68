using System.Diagnostics;
using System.Text.Json;
using Orchestrator.Tests;
using Shouldly;

namespace Orchestrator.Coordinator.Tests;

/// <summary>The independent Python client (python/sweep_client.py, Debian's grpcio with its default limits), run against a coordinator's API.</summary>
public static class PythonClient
{
    /// <summary>Runs the client with these arguments after the protos, endpoint and token; returns the JSON summary it prints (it must exit 0).</summary>
    public static async Task<JsonElement> RunAsync(string endpoint, string tokenFile, params string[] arguments)
    {
        var info = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in new[]
        {
            Path.Combine(TestData.RepositoryRoot(), "tests", "Coordinator.Tests", "python", "sweep_client.py"),
            "--protos", Path.Combine(TestData.RepositoryRoot(), "src", "Protocol", "protos"),
            "--endpoint", new Uri(endpoint).Authority, "--token-file", tokenFile,
        }.Concat(arguments)) info.ArgumentList.Add(arg);
        using var python = Process.Start(info)!;
        var output = python.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = python.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await python.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromMinutes(5), TestContext.Current.CancellationToken);
        python.ExitCode.ShouldBe(0, await error);
        using var summary = JsonDocument.Parse(await output);
        return summary.RootElement.Clone();
    }
}
