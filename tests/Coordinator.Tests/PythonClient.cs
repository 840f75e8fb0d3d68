using System.Diagnostics;
using System.Text.Json;
using Orchestrator.Tests;
using Shouldly;

namespace Orchestrator.Coordinator.Tests;

/// <summary>
/// The Python client (clients/python, package orchestrator_client) installed as a user would, offline with pip into a
/// virtual environment that sees Debian's grpcio, protobuf and pandas, and driven by python/client_checks.py against a
/// coordinator's API.
/// </summary>
public static class PythonClient
{
    static readonly Lazy<Task<string>> venvPython = new(InstallAsync);

    /// <summary>Runs client_checks.py with these arguments after the endpoint and token; returns the JSON summary it prints (it must exit 0).</summary>
    public static async Task<JsonElement> RunAsync(string endpoint, string tokenFile, string mode, params string[] arguments)
    {
        string script = Path.Combine(TestData.RepositoryRoot(), "tests", "Coordinator.Tests", "python", "client_checks.py");
        string output = await RunAsync(await venvPython.Value, [script, mode, "--endpoint", new Uri(endpoint).Authority, "--token-file", tokenFile, .. arguments]);
        using var summary = JsonDocument.Parse(output);
        return summary.RootElement.Clone();
    }

    /// <summary>pip-installs the package from the repository into a new venv (--system-site-packages: Debian's grpcio and protobuf); returns its python.</summary>
    static async Task<string> InstallAsync()
    {
        string venv = Path.Combine(TestData.TemporaryDirectory(), "venv");
        // A copy, so that pip's build folder is not written into the checkout.
        string source = Path.Combine(TestData.TemporaryDirectory(), "orchestrator-client");
        CopyDirectory(Path.Combine(TestData.RepositoryRoot(), "clients", "python"), source);
        await RunAsync("/usr/bin/python3", ["-m", "venv", "--system-site-packages", venv]);
        string python = Path.Combine(venv, "bin", "python");
        await RunAsync(python, ["-m", "pip", "install", "--quiet", "--no-build-isolation", "--no-deps", "--no-index", source]);
        return python;
    }

    static void CopyDirectory(string from, string to)
    {
        foreach (string file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(from, file);
            if (relative.Split(Path.DirectorySeparatorChar).Any(part => part is "build" or "__pycache__" || part.EndsWith(".egg-info"))) continue;
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(to, relative))!);
            File.Copy(file, Path.Combine(to, relative));
        }
    }

    static async Task<string> RunAsync(string program, string[] arguments)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in arguments) info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromMinutes(5), TestContext.Current.CancellationToken);
        process.ExitCode.ShouldBe(0, $"{program} {string.Join(' ', arguments)}: {await error}");
        return await output;
    }
}
