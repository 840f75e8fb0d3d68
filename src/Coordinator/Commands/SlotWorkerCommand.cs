using System.CommandLine;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Orchestrator.GpuNode;
using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.Commands;

/// <summary>
/// <c>orchestrator slot-worker</c> (hidden): one GPU-node slot's worker process (<see cref="SlotWorkers"/>). Reads
/// jobs and cancellations from stdin, one protobuf-JSON line each, runs each job on this thread and writes its epochs
/// and its summary to stdout; everything else it prints goes to stderr. Only this thread allocates while a job runs
/// (the stdin reader only between jobs, or for a cancel), which keeps TorchSharp's implicit Scalars safe from a
/// collection started elsewhere. It exits when stdin closes (its node stopped or died), cancelling a running job.
/// </summary>
public static class SlotWorkerCommand
{
    static readonly JsonFormatter Json = new(JsonFormatter.Settings.Default);

    public static Command Create()
    {
        var command = new Command("slot-worker", "One GPU-node slot's worker process (started by gpunode and local; not for direct use).") { Hidden = true };
        command.SetAction(_ =>
        {
            var protocol = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true };
            Console.SetOut(Console.Error);
            // The node decides when its jobs stop: a Ctrl-C or SIGTERM sent to the whole process group is its to handle.
            using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, signal => signal.Cancel = true);
            using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, signal => signal.Cancel = true);

            var jobs = new System.Collections.Concurrent.BlockingCollection<RunOnDevice>();
            using var nodeGone = new CancellationTokenSource();
            CancellationTokenSource? running = null;
            void CancelRunning()
            {
                try { Volatile.Read(ref running)?.Cancel(); }
                catch (ObjectDisposedException) { } // that job ended meanwhile
            }
            var reader = new Thread(() =>
            {
                while (Console.In.ReadLine() is { } line)
                {
                    var input = JsonParser.Default.Parse<SlotWorkerInput>(line);
                    if (input.KindCase == SlotWorkerInput.KindOneofCase.Run) jobs.Add(input.Run);
                    else if (input.Cancel) CancelRunning();
                }
                nodeGone.Cancel(); // stdin closed: the node stopped or died; its jobs go elsewhere, from their last checkpoints
                jobs.CompleteAdding();
            }) { IsBackground = true, Name = "slot-worker-stdin" };
            reader.Start();

            foreach (var run in jobs.GetConsumingEnumerable())
            {
                if (nodeGone.IsCancellationRequested) break; // sent just before the node went: not ours to run any more
                var cancellation = CancellationTokenSource.CreateLinkedTokenSource(nodeGone.Token);
                Volatile.Write(ref running, cancellation);
                TrialSummary summary;
                try
                {
                    summary = JobExecution.Run(run.Job, run.Device, epoch => protocol.WriteLine(Json.Format(new SlotWorkerOutput { Epoch = epoch })), cancellation.Token);
                }
                catch (Exception e)
                {
                    summary = new TrialSummary { Name = run.Job.JobId, Status = TrialStatus.Failed, FailureReason = e.Message };
                }
                Volatile.Write(ref running, null);
                cancellation.Dispose();
                try
                {
                    protocol.WriteLine(Json.Format(new SlotWorkerOutput { Done = summary }));
                }
                catch (IOException)
                {
                    break; // nobody reads any more: the node is gone
                }
            }
            return CommandLineRunner.Ok;
        });
        return command;
    }

    /// <summary>How a node starts a slot worker: this same orchestrator, on the dotnet host that runs this process.</summary>
    public static ProcessStartInfo StartInfo()
    {
        string assembly = Path.Combine(AppContext.BaseDirectory, "orchestrator.dll");
        // A framework-dependent app's runtime lives in <dotnet root>/shared/Microsoft.NETCore.App/<version>/.
        string host = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", "..", OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet"));
        var info = new ProcessStartInfo(host);
        info.ArgumentList.Add(assembly);
        info.ArgumentList.Add("slot-worker");
        return info;
    }
}
