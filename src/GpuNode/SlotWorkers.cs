using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Orchestrator.Protocol.V1;

namespace Orchestrator.GpuNode;

/// <summary>
/// Runs every slot's jobs in a child process of its own (this assembly's <c>Program</c>: <see cref="SlotWorkerLoop"/>),
/// started on the slot's first job and reused for the next ones; what a worker prints on stderr goes to this node's log. Why not threads: TorchSharp 0.107 frees the implicit Scalars of tensor calls
/// (<c>t.add_(1e-8)</c>, and inside its optimizers) from the finalizer, which a collection started by another thread
/// can run while the native call still reads them (docs/cluster.md); a worker has one allocating thread and no
/// background GC. A worker also has its own RNG, and a native crash ends one job, not the node.
/// </summary>
/// <param name="startInfo">How to start a worker process (its stdin, stdout and stderr are redirected here); default <see cref="WorkerStartInfo"/>.</param>
public sealed class SlotWorkers : IDisposable
{
    /// <summary>How often each worker hears from this node (a heartbeat line); see <see cref="SlotWorkerLoop.NodeSilence"/>.</summary>
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(1);

    readonly ConcurrentDictionary<int, Worker> workers = new();
    readonly Func<ProcessStartInfo> start;
    readonly ILogger<SlotWorkers> log;
    readonly CancellationTokenSource disposed = new();

    public SlotWorkers(ILogger<SlotWorkers> log, Func<ProcessStartInfo>? startInfo = null)
    {
        this.log = log;
        start = startInfo ?? WorkerStartInfo;
        // A thread of its own, not the thread pool: a busy pool must not make the workers think their node is gone.
        new Thread(() =>
        {
            while (!disposed.Token.WaitHandle.WaitOne(HeartbeatInterval))
                foreach (var worker in workers.Values) worker.Heartbeat();
        }) { IsBackground = true, Name = "slot-worker-heartbeat" }.Start();
    }

    /// <summary>A worker process: this assembly, on the dotnet host that runs this process.</summary>
    public static ProcessStartInfo WorkerStartInfo()
    {
        string assembly = Path.Combine(AppContext.BaseDirectory, "Orchestrator.GpuNode.dll");
        // A framework-dependent app's runtime lives in <dotnet root>/shared/Microsoft.NETCore.App/<version>/.
        string host = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", "..", OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet"));
        var info = new ProcessStartInfo(host);
        info.ArgumentList.Add(assembly);
        return info;
    }

    /// <summary>A <see cref="PackRunner"/>: runs <paramref name="jobs"/> in <paramref name="slot"/>'s worker, starting a new one if there is none or it died.</summary>
    public void Run(IReadOnlyList<PackedJob> jobs, int slot, string device)
    {
        Worker worker;
        try
        {
            worker = workers.AddOrUpdate(slot, _ => new Worker(start(), slot, log), (_, current) =>
            {
                if (!current.HasExited) return current;
                current.Dispose();
                return new Worker(start(), slot, log);
            });
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            log.LogError(e, "Slot {Slot} cannot start a worker process", slot);
            foreach (var job in jobs) job.Done(Crashed(job.Job, $"cannot start a slot worker: {e.Message}"));
            return;
        }
        worker.Run(jobs, device, log);
    }

    /// <summary>The process ids of the workers alive now, by slot.</summary>
    public IReadOnlyDictionary<int, int> ProcessIds => workers.Where(w => !w.Value.HasExited).ToDictionary(w => w.Key, w => w.Value.ProcessId);

    public void Dispose()
    {
        disposed.Cancel();
        foreach (var worker in workers.Values) worker.Dispose();
        workers.Clear();
    }

    static TrialSummary Crashed(JobSpec job, string reason) =>
        new() { Name = job.JobId, Status = TrialStatus.Failed, FailureReason = reason, Crashed = true };

    sealed class Worker : IDisposable
    {
        /// <summary>The worker's last stderr lines kept, for a crash's reason.</summary>
        const int StderrLines = 5;
        static readonly JsonFormatter Json = new(JsonFormatter.Settings.Default);
        static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));

        readonly Process process;
        readonly Queue<string> stderr = new();

        static readonly System.Text.RegularExpressions.Regex WorkerTime = new(@"^\d\d:\d\d:\d\d\.\d{3} ");

        public Worker(ProcessStartInfo info, int slot, ILogger log)
        {
            info.RedirectStandardInput = info.RedirectStandardOutput = info.RedirectStandardError = true;
            info.UseShellExecute = false;
            process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start a slot worker ({info.FileName})");
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is null) return;
                // The worker's line has its own time (the node's line gives one already): its level and source stay.
                log.LogInformation("Slot {Slot} worker: {Line}", slot, WorkerTime.Replace(e.Data, "", 1));
                lock (stderr)
                {
                    stderr.Enqueue(e.Data);
                    if (stderr.Count > StderrLines) stderr.Dequeue();
                }
            };
            process.BeginErrorReadLine();
        }

        public bool HasExited => process.HasExited;

        public int ProcessId => process.Id;

        /// <summary>Sends the pack, routes each job's epochs and summary as the worker reports them, and returns when every job has ended.</summary>
        public void Run(IReadOnlyList<PackedJob> jobs, string device, ILogger log)
        {
            var waiting = jobs.ToDictionary(j => j.Job.JobId);
            try
            {
                Send(new SlotWorkerInput { Run = new RunOnDevice { Job = jobs[0].Job, Device = device, Pack = { jobs.Skip(1).Select(j => j.Job) } } });
            }
            catch (IOException)
            {
                Died(waiting.Values);
                return;
            }
            void Tell(SlotWorkerInput input)
            {
                try { Send(input); }
                catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException) { } // it ended meanwhile
            }
            var registrations = jobs.SelectMany(j => new[]
            {
                j.Signals.Cancellation.Register(() => Tell(new SlotWorkerInput { Cancel = true, JobId = j.Job.JobId })),
                j.Signals.Stop.Register(() => Tell(new SlotWorkerInput { Stop = true, JobId = j.Job.JobId })),
            }).ToList();
            try
            {
                while (waiting.Count > 0 && process.StandardOutput.ReadLine() is { } line)
                {
                    SlotWorkerOutput output;
                    try
                    {
                        output = Parser.Parse<SlotWorkerOutput>(line);
                    }
                    catch (InvalidProtocolBufferException)
                    {
                        log.LogWarning("A slot worker printed to its protocol stream: {Line}", line); // not ours to lose
                        continue;
                    }
                    if (!waiting.TryGetValue(output.JobId, out var job)) continue;
                    if (output.KindCase == SlotWorkerOutput.KindOneofCase.Epoch) job.OnEpoch(output.Epoch);
                    else if (output.KindCase == SlotWorkerOutput.KindOneofCase.Done)
                    {
                        waiting.Remove(output.JobId);
                        job.Done(output.Done);
                    }
                }
            }
            catch
            {
                // Whatever broke here (the epoch callback, say), the worker is mid-job: its next lines belong to no one.
                process.Kill(entireProcessTree: true);
                throw;
            }
            finally
            {
                foreach (var registration in registrations) registration.Dispose();
            }
            if (waiting.Count > 0) Died(waiting.Values);
        }

        /// <summary>Tells the worker this node is alive; a worker that has exited is replaced at its slot's next job.</summary>
        public void Heartbeat()
        {
            try { Send(new SlotWorkerInput { Heartbeat = true }); }
            catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException) { }
        }

        void Send(SlotWorkerInput input)
        {
            lock (process)
            {
                process.StandardInput.WriteLine(Json.Format(input));
                process.StandardInput.Flush();
            }
        }

        /// <summary>The worker ended in the middle of these jobs (a native crash, the out-of-memory killer, a signal).</summary>
        void Died(IEnumerable<PackedJob> jobs)
        {
            process.WaitForExit();
            string last;
            lock (stderr) last = string.Join(" | ", stderr);
            foreach (var job in jobs.ToList())
                job.Done(Crashed(job.Job, $"the slot's worker process ended with exit code {process.ExitCode} during the job{(last.Length > 0 ? $": {last}" : "")}"));
        }

        /// <summary>
        /// Closes the worker's stdin, which makes it cancel any job and exit; kills it if it has not within 30 s. The
        /// Process object is left to the collector: a slot thread may still be reading the cancelled job's last lines.
        /// </summary>
        public void Dispose()
        {
            try
            {
                if (!process.HasExited) process.StandardInput.Close();
                if (!process.WaitForExit(TimeSpan.FromSeconds(30))) process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException) { } // already gone
        }
    }
}
