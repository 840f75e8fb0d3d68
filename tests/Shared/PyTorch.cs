using System.Diagnostics;

namespace Orchestrator.Tests;

/// <summary>Test helpers run by Debian's python3-torch (scripts/install-prerequisites.sh --tests installs it).</summary>
public static class PyTorch
{
    /// <summary>Runs <paramref name="script"/> (a path from the checkout's root) with <paramref name="arguments"/>; throws with its stderr unless it exits 0.</summary>
    public static void Run(string script, params string[] arguments)
    {
        var info = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardError = true };
        info.ArgumentList.Add(Path.Combine(TestData.RepositoryRoot(), script));
        foreach (string argument in arguments) info.ArgumentList.Add(argument);
        using var python = Process.Start(info)!;
        string error = python.StandardError.ReadToEnd();
        python.WaitForExit();
        if (python.ExitCode != 0)
            throw new InvalidOperationException($"{script} exited {python.ExitCode} (python3-torch comes with scripts/install-prerequisites.sh --tests):\n{error}");
    }
}
