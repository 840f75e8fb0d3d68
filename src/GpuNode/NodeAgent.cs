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
/// </summary>
public sealed class NodeAgent : ReceiveActor
{
    sealed record SlotDone(int Slot, JobSpec Job, TrialSummary Summary);

    /// <summary>A slot whose worker crashed this many jobs in a row is not offered again (its device or process is broken, not the jobs).</summary>
    public const int MaxCrashesInARow = 3;

    readonly string node;
    readonly IReadOnlyList<string> slotDevices;
    readonly IActorRef scheduler;
    readonly Dictionary<int, (JobSpec Job, CancellationTokenSource Cancellation, CancellationTokenSource Stop)> running = [];
    readonly ILogger log;
    readonly JobRunner runner;
    readonly Action<JobProgress> publishProgress;
    readonly NodeMetrics? metrics;
    readonly Dictionary<int, int> crashesInARow = [];

    /// <param name="runner">What a slot does with a job (<see cref="SlotWorkers.Run"/>: in the slot's worker process).</param>
    /// <param name="progress">Where epoch progress goes (the coordinator's metrics stream); null: to the scheduler, over the cluster.</param>
    /// <param name="metrics">This node's Prometheus instruments; null: none.</param>
    /// <param name="logger">Which job starts and ends on which slot, and what went wrong; null: nowhere.</param>
    public NodeAgent(string node, IReadOnlyList<string> slotDevices, IActorRef scheduler, JobRunner runner,
        Action<JobProgress>? progress = null, NodeMetrics? metrics = null, ILogger? logger = null)
    {
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
            foreach (var (job, cancellation, _) in running.Values.Where(r => r.Job.SweepId == cancel.SweepId && r.Job.JobId == cancel.JobId))
            {
                log.LogInformation("{Node}: cancelling {Job} (its sweep was cancelled)", node, job.JobId);
                cancellation.Cancel();
            }
        });
        Receive<StopJob>(stop =>
        {
            foreach (var (job, _, stopping) in running.Values.Where(r => r.Job.SweepId == stop.SweepId && r.Job.JobId == stop.JobId))
            {
                log.LogInformation("{Node}: stopping {Job} (its sweep stopped it)", node, job.JobId);
                stopping.Cancel();
            }
        });
        Receive<SlotDone>(done =>
        {
            if (running.Remove(done.Slot, out var finished))
            {
                finished.Cancellation.Dispose();
                finished.Stop.Dispose();
            }
            metrics?.Finished(done.Slot);
            if (done.Summary.FailureReason is { Length: > 0 } reason) log.LogInformation("{Node} slot {Slot}: {Job} {Status} ({Reason})", node, done.Slot, done.Job.JobId, done.Summary.Status, reason);
            else log.LogInformation("{Node} slot {Slot}: {Job} {Status}", node, done.Slot, done.Job.JobId, done.Summary.Status);
            scheduler.Tell(new JobFinished { SweepId = done.Job.SweepId, JobId = done.Job.JobId, Summary = done.Summary, Attempt = done.Job.Attempt });
            crashesInARow[done.Slot] = done.Summary.Crashed ? crashesInARow.GetValueOrDefault(done.Slot) + 1 : 0;
            if (crashesInARow[done.Slot] < MaxCrashesInARow) scheduler.Tell(Free(done.Slot));
            else log.LogWarning("{Node} slot {Slot}: {Crashes} jobs in a row crashed its worker; the slot takes no more jobs until this node restarts", node, done.Slot, MaxCrashesInARow);
        });
    }

    public static Props Props(string node, IReadOnlyList<string> slotDevices, IActorRef scheduler, JobRunner runner,
        Action<JobProgress>? progress = null, NodeMetrics? metrics = null, ILogger? log = null) =>
        Akka.Actor.Props.Create(() => new NodeAgent(node, slotDevices, scheduler, runner, progress, metrics, log));

    protected override void PreStart()
    {
        for (int slot = 0; slot < slotDevices.Count; slot++) scheduler.Tell(Free(slot));
    }

    protected override void PostStop()
    {
        foreach (var (_, cancellation, _) in running.Values) cancellation.Cancel();
    }

    SlotFree Free(int slot) => new() { Node = node, Slot = slot, Device = slotDevices[slot] };

    void Start(RunJob run)
    {
        if (running.ContainsKey(run.Slot))
        {
            log.LogWarning("Slot {Slot} of {Node} is busy; job {Job} refused", run.Slot, node, run.Job.JobId);
            return;
        }
        CancellationTokenSource cancellation = new(), stop = new();
        running[run.Slot] = (run.Job, cancellation, stop);
        metrics?.Started(run.Slot);
        log.LogInformation("{Node} slot {Slot}: starting {Job}", node, run.Slot, run.Job.JobId);
        var self = Self;
        var job = run.Job;
        string device = slotDevices[run.Slot];
        var thread = new Thread(() =>
        {
            TrialSummary summary;
            try
            {
                summary = runner(job, run.Slot, device, metrics => publishProgress(new JobProgress
                {
                    SweepId = job.SweepId, JobId = job.JobId, Node = node, Slot = run.Slot, Metrics = metrics, Epochs = job.Epochs, Attempt = job.Attempt,
                }), new JobSignals(cancellation.Token, stop.Token));
            }
            catch (Exception e)
            {
                log.LogError(e, "{Node} slot {Slot}: job {Job} failed on the node's side", node, run.Slot, job.JobId);
                summary = JobFailure.Of(job, e);
            }
            self.Tell(new SlotDone(run.Slot, job, summary));
        })
        { IsBackground = true, Name = $"{node}-slot{run.Slot}" };
        thread.Start();
    }
}
