using Akka.Actor;
using Akka.Persistence;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Orchestrator.Protocol.V1;
using JobLine = Orchestrator.Coordinator.Sweeps.JobLine;
using JobStates = Orchestrator.Coordinator.Sweeps.JobStates;

namespace Orchestrator.Coordinator.Cluster;

/// <summary>
/// One sweep, sharded by sweep id and event-sourced: the single source of truth for its job graph. It persists every
/// state change (submitted, started, completed, re-queued) and hands the scheduler each job whose dependencies are
/// done (a student's soft targets, a soft-target job's teacher); a job whose dependency failed fails with the reason.
/// After a restart it replays its events and queues again every job that has not finished.
/// </summary>
public sealed class SweepEntity : ReceivePersistentActor
{
    /// <summary>How many times a job may crash its process (TrialSummary.crashed) before it fails for good.</summary>
    public const int MaxCrashes = 3;

    sealed class Job(PlannedJob plan)
    {
        public PlannedJob Plan { get; } = plan;
        public string State { get; set; } = JobStates.Queued;
        public TrialSummary? Summary { get; set; }
        public int Crashes { get; set; }
        public bool Finished => JobStates.IsFinished(State);
    }

    readonly IActorRef scheduler;
    SubmitSweep? sweep;
    SweepCancelled? cancelled;
    readonly Dictionary<string, Job> jobs = [];
    /// <summary>Jobs by each job they wait for.</summary>
    readonly Dictionary<string, List<Job>> dependents = [];
    /// <summary>Jobs handed to the scheduler by this incarnation (not persisted: after a restart everything unfinished is handed over again).</summary>
    readonly HashSet<string> handedOver = [];

    readonly ILogger log;

    /// <param name="logger">Each job as it finishes, and the sweep as it completes; null: nowhere.</param>
    public SweepEntity(string sweepId, IActorRef scheduler, ILogger? logger = null)
    {
        PersistenceId = "sweep-" + sweepId;
        this.scheduler = scheduler;
        log = logger ?? NullLogger.Instance;

        Recover<SweepSubmitted>(Apply);
        Recover<JobStarted>(Apply);
        Recover<JobCompleted>(Apply);
        Recover<JobRequeued>(Apply);
        Recover<SweepCancelled>(Apply);
        Recover<SweepResumed>(Apply);

        Command<SubmitSweep>(submit =>
        {
            var sender = Sender;
            if (sweep is not null)
            {
                if (!submit.Jobs.Select(j => j.JobId).Order().SequenceEqual(sweep.Jobs.Select(j => j.JobId).Order()))
                {
                    sender.Tell(new Status.Failure(new InvalidOperationException(
                        $"sweep '{sweep.Name}' was submitted before with other trials; give the changed sweep another name or output folder.")));
                    return;
                }
                if (cancelled is not null)
                {
                    Persist(new SweepResumed(), Timed<SweepResumed>(resumed =>
                    {
                        Apply(resumed);
                        PublishSweep("resumed");
                        HandOverRunnable();
                        sender.Tell(Accepted());
                    }));
                    return;
                }
                HandOverRunnable();
                sender.Tell(Accepted());
                return;
            }
            Persist(new SweepSubmitted { Sweep = submit }, Timed<SweepSubmitted>(submitted =>
            {
                Apply(submitted);
                PublishSweep("submitted");
                HandOverRunnable();
                sender.Tell(Accepted());
            }));
        });
        // Job events are persisted asynchronously: the journal batches them and commands are not stashed meanwhile,
        // which is what lets one sweep dispatch thousands of short trials a second. Their order is still kept.
        Command<JobAssigned>(assigned =>
        {
            if (jobs.TryGetValue(assigned.JobId, out var job) && !job.Finished)
                PersistAsync(new JobStarted { JobId = assigned.JobId, Node = assigned.Node, Slot = assigned.Slot }, Timed<JobStarted>(started =>
                {
                    Apply(started);
                    Publish(job, started.Node, started.Slot);
                }));
        });
        Command<JobFinished>(finished =>
        {
            if (!jobs.TryGetValue(finished.JobId, out var job) || job.Finished || !handedOver.Remove(finished.JobId)) return;
            var summary = finished.Summary;
            // A node that stops cancels its trials, and a process that crashed (out of memory, a native abort) may have
            // had nothing wrong with its job: either way the job runs again, from its last checkpoint; a crash only MaxCrashes times.
            if (summary.Status == TrialStatus.Cancelled || (summary.Crashed && job.Crashes + 1 < MaxCrashes))
            {
                var requeue = summary.Crashed
                    ? new JobRequeued { JobId = finished.JobId, Reason = summary.FailureReason, Crashed = true }
                    : new JobRequeued { JobId = finished.JobId, Reason = "cancelled by its node" };
                PersistAsync(requeue, Timed<JobRequeued>(requeued =>
                {
                    Apply(requeued);
                    Publish(job);
                    HandOver([job]);
                }));
                return;
            }
            if (summary.Crashed) summary.FailureReason += $" (its process crashed {MaxCrashes} times; not run again)";
            PersistAsync(new JobCompleted { JobId = finished.JobId, Summary = finished.Summary }, Timed<JobCompleted>(Complete));
        });
        Command<JobLost>(lost =>
        {
            if (jobs.TryGetValue(lost.JobId, out var job) && !job.Finished)
                PersistAsync(new JobRequeued { JobId = lost.JobId, Reason = lost.Reason }, Timed<JobRequeued>(requeued =>
                {
                    Apply(requeued);
                    Publish(job);
                }));
        });
        Command<CancelSweep>(cancel =>
        {
            var sender = Sender;
            if (sweep is null)
            {
                sender.Tell(new Status.Failure(new KeyNotFoundException($"no sweep '{cancel.SweepId}'")));
                return;
            }
            int unfinished = jobs.Values.Count(j => !j.Finished);
            if (unfinished == 0)
            {
                sender.Tell(new SweepCancelAccepted { SweepId = sweep.SweepId, WasRunning = false });
                return;
            }
            Persist(new SweepCancelled { Reason = cancel.Reason }, Timed<SweepCancelled>(sweepCancelled =>
            {
                Apply(sweepCancelled);
                PublishSweep("cancelled");
                scheduler.Tell(new CancelSweepJobs { SweepId = sweep.SweepId });
                sender.Tell(new SweepCancelAccepted { SweepId = sweep.SweepId, Cancelled = unfinished, WasRunning = true });
            }));
        });
        Command<GetSweepStatus>(_ => Sender.Tell(Status()));
    }

    public override string PersistenceId { get; }

    public static Props Props(string sweepId, IActorRef scheduler, ILogger? log = null) => Akka.Actor.Props.Create(() => new SweepEntity(sweepId, scheduler, log));

    protected override void OnReplaySuccess()
    {
        if (sweep is not null) Context.System.EventStream.Publish(new Recovered(sweep.SweepId, sweep.OutputRoot, jobs.Values.All(j => j.Finished)));
        HandOverRunnable();
    }

    /// <summary>Published in this process when an entity has replayed a submitted sweep (the coordinator restarted): its followers pick it up.</summary>
    public sealed record Recovered(string SweepId, string OutputRoot, bool Complete);

    /// <summary>How long a journal write took, from the call to persist to its handler (which runs once the write is stored): published for the metrics.</summary>
    public sealed record JournalWritten(TimeSpan Latency);

    /// <summary><paramref name="handler"/>, first publishing how long its event took to be written.</summary>
    Action<T> Timed<T>(Action<T> handler)
    {
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        return written =>
        {
            Context.System.EventStream.Publish(new JournalWritten(System.Diagnostics.Stopwatch.GetElapsedTime(start)));
            handler(written);
        };
    }

    void Apply(SweepSubmitted submitted)
    {
        sweep = submitted.Sweep;
        foreach (var plan in sweep.Jobs) jobs[plan.JobId] = new Job(plan);
        foreach (var job in jobs.Values)
            foreach (string dependency in job.Plan.DependsOn)
                (dependents.TryGetValue(dependency, out var list) ? list : dependents[dependency] = []).Add(job);
    }

    /// <summary>Applies a completion and offers the jobs that waited for it.</summary>
    void Complete(JobCompleted completed)
    {
        Apply(completed);
        var job = jobs[completed.JobId];
        Publish(job);
        log.LogInformation("{Sweep}: {Job}", sweep!.Name, JobLine.Of(StatusOf(job)));
        if (jobs.Values.All(j => j.Finished))
        {
            PublishSweep("complete");
            log.LogInformation("{Sweep}: complete, {Done} of {Jobs} job(s) done", sweep.Name, jobs.Values.Count(j => j.State == JobStates.Done), jobs.Count);
        }
        if (dependents.TryGetValue(completed.JobId, out var waiting)) HandOver(waiting);
    }

    /// <summary>Tells this process's watchers (the gRPC Watch streams) a job's new state; never during recovery.</summary>
    void Publish(Job job, string node = "", int slot = 0) => Context.System.EventStream.Publish(new JobStateChanged
    {
        SweepId = sweep!.SweepId, JobId = job.Plan.JobId, Kind = job.Plan.Kind, State = job.State, Node = node, Slot = slot, Summary = job.Summary,
        Parameters = { job.Plan.Parameters }, Seed = job.Plan.Seed,
    });

    void PublishSweep(string state) => Context.System.EventStream.Publish(new SweepStateChanged { SweepId = sweep!.SweepId, State = state });

    void Apply(JobStarted started) => jobs[started.JobId].State = JobStates.Running;

    /// <summary>Every unfinished job is cancelled; the scheduler drops them and stops those running (told by the command handler).</summary>
    void Apply(SweepCancelled sweepCancelled)
    {
        cancelled = sweepCancelled;
        foreach (var job in jobs.Values.Where(j => !j.Finished))
        {
            job.State = JobStates.Cancelled;
            handedOver.Remove(job.Plan.JobId);
        }
    }

    /// <summary>The cancelled jobs are queued again; they resume from their last checkpoints.</summary>
    void Apply(SweepResumed _)
    {
        cancelled = null;
        foreach (var job in jobs.Values.Where(j => j.State == JobStates.Cancelled)) job.State = JobStates.Queued;
    }

    void Apply(JobRequeued requeued)
    {
        var job = jobs[requeued.JobId];
        job.State = JobStates.Queued;
        if (requeued.Crashed) job.Crashes++;
    }

    void Apply(JobCompleted completed)
    {
        var job = jobs[completed.JobId];
        job.Summary = completed.Summary;
        job.State = completed.Summary.Status is TrialStatus.Completed or TrialStatus.EarlyStopped ? JobStates.Done : JobStates.Failed;
    }

    void HandOverRunnable() => HandOver(jobs.Values);

    /// <summary>
    /// Hands the scheduler each of <paramref name="candidates"/> that is unfinished and whose dependencies have all
    /// finished; fails (and persists as failed) each one with a failed dependency, which fails its own dependents in turn.
    /// </summary>
    void HandOver(IEnumerable<Job> candidates)
    {
        if (sweep is null || cancelled is not null) return;
        var orphaned = new List<JobCompleted>();
        foreach (var job in candidates.Where(j => !j.Finished && !handedOver.Contains(j.Plan.JobId)).ToList())
        {
            var dependencies = job.Plan.DependsOn.Select(id => jobs[id]).ToList();
            if (dependencies.FirstOrDefault(d => d.State == JobStates.Failed) is { } failedDependency)
            {
                var failed = new TrialSummary
                {
                    Name = job.Plan.JobId, Status = TrialStatus.Failed,
                    FailureReason = $"{failedDependency.Plan.JobId} failed: {failedDependency.Summary?.FailureReason}",
                };
                orphaned.Add(new JobCompleted { JobId = job.Plan.JobId, Summary = failed });
                handedOver.Add(job.Plan.JobId);
                continue;
            }
            if (dependencies.Any(d => d.State != JobStates.Done)) continue;
            handedOver.Add(job.Plan.JobId);
            scheduler.Tell(new EnqueueJob
            {
                Job = new JobSpec
                {
                    SweepId = sweep.SweepId, JobId = job.Plan.JobId, Kind = job.Plan.Kind, WorkJson = job.Plan.WorkJson, Epochs = job.Plan.Epochs,
                    OutputDirectory = Path.Combine(sweep.OutputRoot, job.Plan.JobId), SoftTargetStore = sweep.SoftTargetStore,
                },
            });
        }
        if (orphaned.Count > 0) PersistAll(orphaned, Timed<JobCompleted>(Complete));
    }

    SweepAccepted Accepted() => new() { SweepId = sweep!.SweepId, Jobs = jobs.Count, AlreadyDone = jobs.Values.Count(j => j.Finished) };

    SweepStatus Status()
    {
        var status = new SweepStatus { SweepId = PersistenceId["sweep-".Length..] };
        if (sweep is null) return status;
        status.Name = sweep.Name;
        status.OutputRoot = sweep.OutputRoot;
        status.Metric = sweep.Metric;
        status.Maximize = sweep.Maximize;
        status.Complete = jobs.Values.All(j => j.Finished);
        status.Cancelled = cancelled is not null;
        status.CancelReason = cancelled?.Reason ?? "";
        foreach (var job in jobs.Values) status.Jobs.Add(StatusOf(job));
        return status;
    }

    static JobStatus StatusOf(Job job)
    {
        var entry = new JobStatus
        {
            JobId = job.Plan.JobId, Kind = job.Plan.Kind, State = job.State, DependsOn = { job.Plan.DependsOn }, Seed = job.Plan.Seed, Parameters = { job.Plan.Parameters },
        };
        if (job.Summary is not null) entry.Summary = job.Summary;
        return entry;
    }
}
