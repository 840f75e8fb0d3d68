using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Orchestrator.Hosting;
using Orchestrator.Protocol.V1;

namespace Orchestrator.GpuNode;

/// <summary>
/// The worker's end of worker.proto (<see cref="SlotWorkers"/> is the node's): reads jobs and cancellations from
/// stdin, one protobuf-JSON line each, runs each job on this thread and writes its epochs and its summary to stdout;
/// everything else the process prints goes to stderr, which the node logs. Only this thread allocates while a job
/// runs (the stdin reader only between jobs, or for a cancel), which keeps TorchSharp's implicit Scalars safe from a
/// collection started elsewhere. It returns when stdin closes (its node stopped or died), cancelling a running job.
/// </summary>
public static class SlotWorkerLoop
{
    static readonly JsonFormatter Json = new(JsonFormatter.Settings.Default);

    public static int Run(TextReader input, Stream output)
    {
        var protocol = new StreamWriter(output) { AutoFlush = true };
        Console.SetOut(Console.Error);
        using var loggers = OrchestratorLogging.CreateFactory(toStandardError: true);
        var log = loggers.CreateLogger(typeof(SlotWorkerLoop));
        // The node decides when its jobs stop: a Ctrl-C or SIGTERM sent to the whole process group is its to handle.
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, signal => signal.Cancel = true);
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, signal => signal.Cancel = true);

        var jobs = new BlockingCollection<RunOnDevice>();
        using var nodeGone = new CancellationTokenSource();
        CancellationTokenSource? running = null;
        void CancelRunning()
        {
            try { Volatile.Read(ref running)?.Cancel(); }
            catch (ObjectDisposedException) { } // that job ended meanwhile
        }
        var reader = new Thread(() =>
        {
            while (input.ReadLine() is { } line)
            {
                var message = JsonParser.Default.Parse<SlotWorkerInput>(line);
                if (message.KindCase == SlotWorkerInput.KindOneofCase.Run) jobs.Add(message.Run);
                else if (message.Cancel) CancelRunning();
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
                // The summary carries the reason a user reads; the stack goes to the log, where the node picks it up.
                log.LogError(e, "Job {Job} of sweep {Sweep} failed", run.Job.JobId, run.Job.SweepId);
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
        return 0;
    }
}
