using System.Diagnostics;

namespace Orchestrator.Coordinator.Tests;

/// <summary>
/// Debian's chromium, headless, on a page (scripts/install-prerequisites.sh --tests installs it): the DOM after the
/// page's scripts ran, and what its console said at warning level or above.
/// </summary>
static class HeadlessChromium
{
    public const string Executable = "/usr/bin/chromium";

    /// <summary>The rendered DOM and the console's warnings and errors (chromium logs them to stderr as CONSOLE lines).</summary>
    public static async Task<(string Dom, IReadOnlyList<string> Console)> LoadAsync(string url, CancellationToken cancellation)
    {
        var (dom, log) = await RunAsync(cancellation, "--dump-dom", "--enable-logging=stderr", "--v=0", url);
        return (dom, log.Split('\n').Where(l => l.Contains("CONSOLE", StringComparison.Ordinal)).ToList());
    }

    /// <summary>A PNG of the page at the given size.</summary>
    public static Task ScreenshotAsync(string url, string png, CancellationToken cancellation, int width = 1200, int height = 2400) =>
        RunAsync(cancellation, $"--screenshot={png}", $"--window-size={width},{height}", url);

    static async Task<(string Stdout, string Stderr)> RunAsync(CancellationToken cancellation, params string[] arguments)
    {
        var start = new ProcessStartInfo(Executable) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", $"--user-data-dir={Orchestrator.Tests.TestData.TemporaryDirectory()}" }.Concat(arguments))
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(cancellation);
        var stderr = process.StandardError.ReadToEndAsync(cancellation);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        try { await process.WaitForExitAsync(timeout.Token); }
        finally { if (!process.HasExited) process.Kill(entireProcessTree: true); }
        return (await stdout, await stderr);
    }
}
