using Akka.Actor;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Orchestrator.Protocol.V1;

namespace Orchestrator.GpuNode;

/// <summary>
/// One GPU node: owns its device slots, offers every free slot to the scheduler (work-pulling), and runs each job
/// it is given on a dedicated thread per slot (which hands it to the slot's worker process), never on the actor dispatcher. Progress and the result come back as
/// messages; when the agent stops, running trials are cancelled within one batch and resume from their last epoch,
/// and a job of a cancelled sweep is stopped the same way; a job its sweep stopped ends within a batch for good.
/// A slot offers a capacity (how many trials it trains as one pack); each job of a pack is reported as it ends, and
/// the slot is offered again once all have.
/// </summary>
public sealed class NodeAgent : ReceiveActor
{
    sealed record JobDone(int Slot, JobSpec Job, TrialSummary Summary);
    sealed record SlotDone(int Slot, bool Crashed);
    sealed record RunningJob(JobSpec Job, CancellationTokenSource Cancellation, CancellationTokenSource Stop);

    /// <summary>A slot whose worker crashed this many jobs in a row is not offered again (its device or process is broken, not the jobs).</summary>
    public const int MaxCrashesInARow = 3;

    readonly string node;
    readonly IReadOnlyList<string> slotDevices;
    readonly IActorRef scheduler;
    readonly Dictionary<int, List<RunningJob>> running = [];
    readonly ILogger log;
    readonly PackRunner runner;
    readonly int capacity;
    readonly Action<JobProgress> publishProgress;
    readonly NodeMetrics? metrics;
    readonly Dictionary<int, int> crashesInARow = [];

    /// <param name="runner">What a slot does with a pack of jobs (<see cref="SlotWorkers.Run"/>: in the slot's worker process).</param>
    /// <param name="capacity">The most trials a slot trains as one pack (1: one job at a time).</param>
    /// <param name="progress">Where epoch progress goes (the coordinator's metrics stream); null: to the scheduler, over the cluster.</param>
    /// <param name="metrics">This node's Prometheus instruments; null: none.</param>
    /// <param name="logger">Which job starts and ends on which slot, and what went wrong; null: nowhere.</param>
    public NodeAgent(string node, IReadOnlyList<string> slotDevices, IActorRef scheduler, PackRunner runner, int capacity,
        Action<JobProgress>? progress = null, NodeMetrics? metrics = null, ILogger? logger = null)
    {
        this.capacity = capacity;
        log = logger ?? NullLogger.Instance;
        this.metrics = metrics;
        this.node = node;
        this.slotDevices = slotDevices;
        this.scheduler = scheduler;
        this.runner = runner;
        var send = progress ?? (p => scheduler.Tell(p));
        publishProgress = p =>
        {
            metrics?.Progress(p);
            send(p);
        };
        Receive<RunJob>(Start);
        Receive<CancelJob>(cancel =>
        {
            foreach (var (job, cancellation, _) in Running(cancel.SweepId, cancel.JobId))
            {
                log.LogInformation("{Node}: cancelling {Job} (its sweep was cancelled)", node, job.JobId);
                cancellation.Cancel();
            }
        });
        Receive<StopJob>(stop =>
        {
            foreach (var (job, _, stopping) in Running(stop.SweepId, stop.JobId))
            {
                log.LogInformation("{Node}: stopping {Job} (its sweep stopped it)", node, job.JobId);
                stopping.Cancel();
            }
        });
        Receive<JobDone>(done =>
        {
            if (running.TryGetValue(done.Slot, out var jobs) && jobs.Find(j => j.Job.JobId == done.Job.JobId && j.Job.SweepId == done.Job.SweepId) is { } finished)
            {
                jobs.Remove(finished);
                finished.Cancellation.Dispose();
                finished.Stop.Dispose();
            }
            if (done.Summary.FailureReason is { Length: > 0 } reason) log.LogInformation("{Node} slot {Slot}: {Job} {Status} ({Reason})", node, done.Slot, done.Job.JobId, done.Summary.Status, reason);
            else log.LogInformation("{Node} slot {Slot}: {Job} {Status}", node, done.Slot, done.Job.JobId, done.Summary.Status);
            scheduler.Tell(new JobFinished { SweepId = done.Job.SweepId, JobId = done.Job.JobId, Summary = done.Summary, Attempt = done.Job.Attempt });
        });
        Receive<SlotDone>(done =>
        {
            running.Remove(done.Slot);
            metrics?.Finished(done.Slot);
            crashesInARow[done.Slot] = done.Crashed ? crashesInARow.GetValueOrDefault(done.Slot) + 1 : 0;
            if (crashesInARow[done.Slot] < MaxCrashesInARow) scheduler.Tell(Free(done.Slot));
            else log.LogWarning("{Node} slot {Slot}: {Crashes} jobs in a row crashed its worker; the slot takes no more jobs until this node restarts", node, done.Slot, MaxCrashesInARow);
        });
    }

    IEnumerable<RunningJob> Running(string sweepId, string jobId) =>
        running.Values.SelectMany(jobs => jobs).Where(r => r.Job.SweepId == sweepId && r.Job.JobId == jobId).ToList();

    public static Props Props(string node, IReadOnlyList<string> slotDevices, IActorRef scheduler, PackRunner runner, int capacity,
        Action<JobProgress>? progress = null, NodeMetrics? metrics = null, ILogger? log = null) =>
        Akka.Actor.Props.Create(() => new NodeAgent(node, slotDevices, scheduler, runner, capacity, progress, metrics, log));

    /// <summary>A node whose slots run one job at a time with <paramref name="runner"/>.</summary>
    public static Props Props(string node, IReadOnlyList<string> slotDevices, IActorRef scheduler, JobRunner runner,
        Action<JobProgress>? progress = null, NodeMetrics? metrics = null, ILogger? log = null) =>
        Props(node, slotDevices, scheduler, PackRunners.OneAtATime(runner), capacity: 1, progress, metrics, log);

    protected override void PreStart()
    {
        for (int slot = 0; slot < slotDevices.Count; slot++) scheduler.Tell(Free(slot));
    }

    protected override void PostStop()
    {
        foreach (var (_, cancellation, _) in running.Values.SelectMany(jobs => jobs)) cancellation.Cancel();
    }

    SlotFree Free(int slot) => new() { Node = node, Slot = slot, Device = slotDevices[slot], Capacity = capacity, NodeSlots = slotDevices.Count };

    void Start(RunJob run)
    {
        if (running.ContainsKey(run.Slot))
        {
            log.LogWarning("Slot {Slot} of {Node} is busy; job {Job} refused", run.Slot, node, run.Job.JobId);
            return;
        }
        var jobs = run.Pack.Prepend(run.Job).Select(job => new RunningJob(job, new CancellationTokenSource(), new CancellationTokenSource())).ToList();
        running[run.Slot] = [.. jobs];
        metrics?.Started(run.Slot);
        foreach (var job in jobs)
            if (jobs.Count == 1) log.LogInformation("{Node} slot {Slot}: starting {Job}", node, run.Slot, job.Job.JobId);
            else log.LogInformation("{Node} slot {Slot}: starting {Job} (a pack of {Count})", node, run.Slot, job.Job.JobId, jobs.Count);
        var self = Self;
        string device = slotDevices[run.Slot];
        var thread = new Thread(() =>
        {
            var reported = new HashSet<string>();
            bool crashed = false;
            void Done(JobSpec job, TrialSummary summary)
            {
                lock (reported)
                {
                    if (!reported.Add(job.JobId)) return;
                    crashed |= summary.Crashed;
                }
                self.Tell(new JobDone(run.Slot, job, summary));
            }
            var packed = jobs.Select(r => new PackedJob(r.Job, metrics => publishProgress(new JobProgress
            {
                SweepId = r.Job.SweepId, JobId = r.Job.JobId, Node = node, Slot = run.Slot, Metrics = metrics, Epochs = r.Job.Epochs, Attempt = r.Job.Attempt,
            }), new JobSignals(r.Cancellation.Token, r.Stop.Token), summary => Done(r.Job, summary))).ToList();
            try
            {
                runner(packed, run.Slot, device);
            }
            catch (Exception e)
            {
                log.LogError(e, "{Node} slot {Slot}: job {Job} failed on the node's side", node, run.Slot, run.Job.JobId);
                foreach (var job in jobs) Done(job.Job, JobFailure.Of(job.Job, e));
            }
            // A runner that returned without reporting a job (it must not): the job failed, and says so.
            List<RunningJob> unreported;
            lock (reported) unreported = jobs.Where(j => !reported.Contains(j.Job.JobId)).ToList();
            foreach (var job in unreported) Done(job.Job, JobFailure.Of(job.Job, new InvalidOperationException("the slot's runner ended without reporting this job")));
            self.Tell(new SlotDone(run.Slot, crashed));
        })
        { IsBackground = true, Name = $"{node}-slot{run.Slot}" };
        thread.Start();
    }
}
