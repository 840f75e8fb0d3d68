using System.Diagnostics;
using Orchestrator.Tests;

namespace Orchestrator.Coordinator.Tests;

/// <summary>The real orchestrator executable (copied next to the tests by the project reference), run as a child process.</summary>
public static class OrchestratorProcess
{
    static readonly string Dll = Path.Combine(AppContext.BaseDirectory, "orchestrator.dll");

    public static Process Start(params string[] args)
    {
        // A fresh working folder: whatever a command writes by default (runs/..., the soft-target store) stays out of the build output.
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = TestData.TemporaryDirectory(),
        };
        info.ArgumentList.Add(Dll);
        foreach (var arg in args) info.ArgumentList.Add(arg);
        return Process.Start(info)!;
    }

    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        using var process = Start(args);
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromMinutes(5), TestContext.Current.CancellationToken);
        return (process.ExitCode, await output, await error);
    }
}
