using System.Diagnostics;
using System.Text;
using Shouldly;

namespace Orchestrator.Coordinator.Tests;

/// <summary>An orchestrator child process whose output (stdout and stderr) is collected as it runs.</summary>
public sealed class RunningProcess(Process process) : IDisposable
{
    readonly StringBuilder output = new();

    public Process Process { get; } = process;

    public string Output { get { lock (output) return output.ToString(); } }

    public static RunningProcess Start(params string[] args)
    {
        var running = new RunningProcess(OrchestratorProcess.Start(args));
        running.Process.OutputDataReceived += (_, e) => { lock (running.output) running.output.AppendLine(e.Data); };
        running.Process.ErrorDataReceived += (_, e) => { lock (running.output) running.output.AppendLine(e.Data); };
        running.Process.BeginOutputReadLine();
        running.Process.BeginErrorReadLine();
        return running;
    }

    /// <summary>Waits until the process has printed <paramref name="text"/>; fails with its output when it exits first or time runs out.</summary>
    public async Task WaitForOutput(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!Output.Contains(text))
        {
            Process.HasExited.ShouldBeFalse($"exited before printing '{text}':\n{Output}");
            DateTime.UtcNow.ShouldBeLessThan(deadline, $"did not print '{text}' in {timeout}:\n{Output}");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>SIGTERM, as Kubernetes stops a pod; then the exit code.</summary>
    public async Task<int> TerminateAsync()
    {
        using (var kill = Process.Start("kill", ["-TERM", Process.Id.ToString()])) await kill.WaitForExitAsync(TestContext.Current.CancellationToken);
        await Process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        return Process.ExitCode;
    }

    public void Dispose()
    {
        if (!Process.HasExited) Process.Kill(entireProcessTree: true);
        Process.Dispose();
    }
}
