using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Orchestrator.Hosting;
using Orchestrator.Protocol.V1;

namespace Orchestrator.GpuNode;

/// <summary>
/// The worker's end of worker.proto (<see cref="SlotWorkers"/> is the node's): reads jobs (a pack of them at a time),
/// cancellations and stops from stdin, one protobuf-JSON line each, runs each pack on this thread and writes each job's
/// epochs and summary to stdout, tagged with its id;
/// everything else the process prints goes to stderr, which the node logs. Only this thread allocates while a job
/// runs (the stdin reader only between jobs, or for a cancel), which keeps TorchSharp's implicit Scalars safe from a
/// collection started elsewhere. It returns when stdin closes (its node stopped or died), cancelling a running job.
/// </summary>
public static class SlotWorkerLoop
{
    static readonly JsonFormatter Json = new(JsonFormatter.Settings.Default);

    /// <summary>How long a worker goes without a line from its node (it sends a heartbeat every second) before it stops its job and exits.</summary>
    public static readonly TimeSpan NodeSilence = TimeSpan.FromSeconds(10);

    /// <summary>How long a worker that stopped for a silent node waits for its job to end before it exits anyway (its last line may never be read).</summary>
    static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(30);

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
        // The running pack's jobs' cancellations and stops, by job id; replaced (never changed) by the training thread.
        IReadOnlyDictionary<string, (CancellationTokenSource Cancellation, CancellationTokenSource Stop)> running =
            new Dictionary<string, (CancellationTokenSource, CancellationTokenSource)>();
        void Signal(string jobId, bool stop)
        {
            foreach (var (id, (cancellation, stopping)) in Volatile.Read(ref running))
                if (jobId.Length == 0 || id == jobId)
                    try { (stop ? stopping : cancellation).Cancel(); }
                    catch (ObjectDisposedException) { } // that job ended meanwhile
        }
        long lastHeard = Environment.TickCount64;
        void NodeGone()
        {
            lock (jobs)
            {
                nodeGone.Cancel(); // its jobs go elsewhere, from their last checkpoints
                jobs.CompleteAdding();
            }
        }
        var reader = new Thread(() =>
        {
            while (input.ReadLine() is { } line)
            {
                Volatile.Write(ref lastHeard, Environment.TickCount64);
                var message = JsonParser.Default.Parse<SlotWorkerInput>(line);
                if (message.KindCase == SlotWorkerInput.KindOneofCase.Run)
                    lock (jobs) if (!jobs.IsAddingCompleted) jobs.Add(message.Run);
                if (message.Cancel) Signal(message.JobId, stop: false);
                if (message.Stop) Signal(message.JobId, stop: true);
            }
            NodeGone(); // stdin closed: the node stopped or died
        }) { IsBackground = true, Name = "slot-worker-stdin" };
        reader.Start();
        var watchdog = new Thread(() =>
        {
            while (!nodeGone.IsCancellationRequested)
            {
                Thread.Sleep(TimeSpan.FromSeconds(1));
                if (Environment.TickCount64 - Volatile.Read(ref lastHeard) < NodeSilence.TotalMilliseconds) continue;
                log.LogWarning("No word from the node for {Silence}: stopping the job after its batch and exiting", NodeSilence);
                NodeGone();
                Thread.Sleep(StopGrace);
                Environment.Exit(0); // the job ended but its last line is stuck in a pipe nobody reads
            }
        }) { IsBackground = true, Name = "slot-worker-watchdog" };
        watchdog.Start();

        foreach (var run in jobs.GetConsumingEnumerable())
        {
            if (nodeGone.IsCancellationRequested) break; // sent just before the node went: not ours to run any more
            var pack = run.Pack.Prepend(run.Job).ToList();
            var signals = pack.ToDictionary(j => j.JobId, _ => (Cancellation: CancellationTokenSource.CreateLinkedTokenSource(nodeGone.Token), Stop: new CancellationTokenSource()));
            Volatile.Write(ref running, signals);
            bool nodeListens = true;
            void Write(SlotWorkerOutput output)
            {
                if (!nodeListens) return;
                try { protocol.WriteLine(Json.Format(output)); }
                catch (IOException) { nodeListens = false; } // nobody reads any more: the node is gone
            }
            var reported = new HashSet<string>();
            try
            {
                JobExecution.Run(pack, run.Device,
                    (job, epoch) => Write(new SlotWorkerOutput { JobId = job.JobId, Epoch = epoch }),
                    job => new JobSignals(signals[job.JobId].Cancellation.Token, signals[job.JobId].Stop.Token),
                    (job, summary) =>
                    {
                        reported.Add(job.JobId);
                        Write(new SlotWorkerOutput { JobId = job.JobId, Done = summary });
                    },
                    line => log.LogInformation("{Jobs}: {Line}", string.Join(", ", pack.Select(j => $"{j.JobId} attempt {j.Attempt}")), line));
            }
            catch (Exception e)
            {
                // The summary carries the reason a user reads; the stack goes to the log, where the node picks it up.
                log.LogError(e, "Jobs {Jobs} of sweep {Sweep} failed", string.Join(", ", pack.Select(j => j.JobId)), run.Job.SweepId);
                foreach (var job in pack.Where(j => !reported.Contains(j.JobId)))
                    Write(new SlotWorkerOutput { JobId = job.JobId, Done = JobFailure.Of(job, e) });
            }
            Volatile.Write(ref running, new Dictionary<string, (CancellationTokenSource, CancellationTokenSource)>());
            foreach (var (cancellation, stop) in signals.Values)
            {
                cancellation.Dispose();
                stop.Dispose();
            }
            if (!nodeListens) break;
        }
        return 0;
    }
}
