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
