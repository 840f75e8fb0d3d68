using Akka.Actor;
using Akka.Persistence;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Orchestrator.Coordinator.Planning;
using Orchestrator.Coordinator.Results;
using Orchestrator.Coordinator.Search;
using Orchestrator.Coordinator.State;
using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.Cluster;

/// <summary>
/// One sweep, sharded by sweep id and event-sourced: the single source of truth for its job graph. What a command
/// does is <see cref="SweepState"/>'s decision; this actor persists its events, applies them, tells this process's
/// watchers, hands the scheduler the jobs that became runnable, and replies. After a restart it replays its events,
/// queues again the jobs that were running, and hands over every runnable job.
/// </summary>
public sealed class SweepEntity : ReceivePersistentActor, IWithTimers
{
    public ITimerScheduler Timers { get; set; } = null!;

    readonly IActorRef scheduler;
    readonly ILogger log;
    readonly SweepState state;
    readonly DispatchWindow window = new();
    readonly int snapshotEvery;
    long eventsSinceSnapshot;

    /// <summary>How many of a sweep's jobs wait at the scheduler at once (<see cref="DispatchWindow"/>).</summary>
    public const int Window = DispatchWindow.DefaultSize;

    /// <summary>Events between snapshots when a sweep is small; a larger one snapshots every half its job count, up to <see cref="MaxEventsBetweenSnapshots"/>.</summary>
    public const int DefaultSnapshotEvery = 1000;

    /// <param name="logger">Each job as it finishes, and the sweep as it completes; null: nowhere.</param>
    /// <param name="snapshotEvery">The least number of events between two snapshots.</param>
    public SweepEntity(string sweepId, IActorRef scheduler, ILogger? logger = null, int snapshotEvery = DefaultSnapshotEvery)
    {
        PersistenceId = "sweep-" + sweepId;
        this.scheduler = scheduler;
        log = logger ?? NullLogger.Instance;
        this.snapshotEvery = snapshotEvery;
        state = new SweepState(sweepId);

        Recover<SnapshotOffer>(offer =>
        {
            state.Restore((SweepSnapshot)offer.Snapshot);
            restoredAt = recovering.Elapsed;
        });
        Recover<SweepSubmitted>(Replayed);
        Recover<SweepJobsPlanned>(Replayed);
        Recover<JobStarted>(Replayed);
        Recover<JobCompleted>(Replayed);
        Recover<JobRequeued>(Replayed);
        Recover<SweepCancelled>(Replayed);
        Recover<SweepResumed>(Replayed);
        Recover<AttemptsReserved>(Replayed);
        Recover<EpochMeasured>(Replayed);
        Recover<PointStopped>(Replayed);
        Recover<TargetReached>(Replayed);
        Recover<PointProposed>(Replayed);

        // Sweep-level events are persisted with Persist (commands wait meanwhile); job events with PersistAsync: the
        // journal batches them and commands are not stashed, which lets one sweep dispatch thousands of short jobs a
        // second. Their order is still kept.
        Command<SubmitSweep>(submit => Execute(state.Decide(submit), Sender, batched: false, replyAccepted: true));
        Command<CancelSweep>(cancel => Execute(state.Decide(cancel), Sender, batched: false));
        Command<RetrySweep>(retry => Execute(state.Decide(retry), Sender, batched: false));
        Command<HandOverLater>(later => HandOver(later.JobIds));
        Command<JobAssigned>(assigned =>
        {
            if (!state.IsCurrent(assigned.JobId, assigned.Attempt)) return; // a superseded attempt: its slot's work will be fenced off
            if (window.Taken(assigned.JobId)) TopUp();
            Execute(state.Decide(assigned), Sender, batched: true);
        });
        // Only the current attempt's report counts, once: one for a superseded attempt (or an older incarnation's) is not ours.
        Command<JobFinished>(finished =>
        {
            if (Ended(finished.JobId, finished.Attempt))
                Execute(state.Decide(finished), Sender, batched: true,
                    then: state.Sweep is { HasTarget: true } ? () => Execute(Decision.Only(state.DecideTarget(finished.JobId)), ActorRefs.Nobody, batched: true) : null);
        });
        // An epoch at a band may stop points: decided once it is applied (with every epoch stored before it).
        Command<JobProgress>(progress => Execute(state.Decide(progress), ActorRefs.Nobody, batched: true,
            then: state.IsBand(progress.Metrics.Epoch) ? () => Execute(Decision.Only(state.DecideStops()), ActorRefs.Nobody, batched: true) : null));
        Command<JobLost>(lost =>
        {
            if (Ended(lost.JobId, lost.Attempt)) Execute(state.Decide(lost), Sender, batched: true);
        });
        Command<GoOn>(_ =>
        {
            Execute(new Decision([.. state.DecideAfterRecovery(), .. state.DecideStops(), .. state.DecideTarget(null)], state.Runnable(), null),
                ActorRefs.Nobody, batched: false);
            if (state.MayPropose) scheduler.Tell(new SweepCanPropose { SweepId = state.SweepId });
        });
        Command<ProposeJobs>(Propose);
        Command<Planned>(planned =>
        {
            planning = false;
            planner = planned.Planner;
            Execute(state.Decide(planned.Points), planned.ReplyTo, batched: false);
        });
        Command<PlanningFailed>(failed =>
        {
            planning = false;
            plannerBroken = true;
            log.LogError("{Sweep}: its sweep file no longer plans, so it proposes no more points: {Error}", state.SweepId, failed.Error);
            failed.ReplyTo.Tell(new NoProposal { SweepId = state.SweepId, Done = true });
        });
        Command<GetSweepStatus>(query => Sender.Tell(state.Status(query.JobsOffset, query.JobsLimit)));
        Command<SaveSnapshotSuccess>(saved => DeleteSnapshots(new SnapshotSelectionCriteria(saved.Metadata.SequenceNr - 1)));
        Command<SaveSnapshotFailure>(failed => log.LogWarning(failed.Cause, "{Sweep}: saving a snapshot failed; recovery replays more events until the next one", state.SweepId));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(failed => log.LogWarning(failed.Cause, "{Sweep}: deleting older snapshots failed", state.SweepId));
    }

    /// <summary>
    /// Events between snapshots: at least <see cref="snapshotEvery"/>, and half the sweep's jobs up to
    /// <see cref="MaxEventsBetweenSnapshots"/>, so that a snapshot (which holds every job) costs a bounded share of the
    /// writes, and recovery replays at most that many events.
    /// </summary>
    long SnapshotInterval => Math.Max(snapshotEvery, Math.Min(state.JobCount / 2, MaxEventsBetweenSnapshots));

    /// <summary>
    /// The most events a recovery replays after its snapshot: about 2 s of replay on 2 cores. A snapshot of a 1M-job
    /// sweep is its plan's bytes and the moved jobs (about 60 MB, 0.2 s to build here), so one every 50,000 events
    /// costs about 1 KB a job event at that size (docs/benchmarks.md).
    /// </summary>
    public const int MaxEventsBetweenSnapshots = 50_000;

    public override string PersistenceId { get; }

    /// <summary>Since this incarnation started, and when its snapshot was restored: what the recovery's log line tells.</summary>
    readonly System.Diagnostics.Stopwatch recovering = System.Diagnostics.Stopwatch.StartNew();
    TimeSpan? restoredAt;

    void Replayed(IMessage replayed)
    {
        state.Apply(replayed);
        eventsSinceSnapshot++;
    }

    /// <summary>Whether the report is of the job's current attempt, which ended (finished, or lost with its node): then the scheduler holds it no more.</summary>
    bool Ended(string jobId, long attempt) => state.IsCurrent(jobId, attempt) && window.Ended(jobId);

    public static Props Props(string sweepId, IActorRef scheduler, ILogger? log = null, int snapshotEvery = DefaultSnapshotEvery) =>
        Akka.Actor.Props.Create(() => new SweepEntity(sweepId, scheduler, log, snapshotEvery));

    protected override void OnReplaySuccess()
    {
        if (state.Sweep is null) return;
        log.LogInformation("{Sweep}: recovered {Jobs} job(s) in {Seconds:F1} s: {Snapshot}{Events} event(s) replayed", state.Sweep.Name, state.JobCount,
            recovering.Elapsed.TotalSeconds, restoredAt is { } restored ? $"snapshot loaded in {restored.TotalSeconds:F1} s, then " : "no snapshot, ", eventsSinceSnapshot);
        state.Recovered();
        Context.System.EventStream.Publish(new Recovered(state.SweepId, state.Sweep.OutputRoot, state.Complete));
        Self.Tell(GoOn.Instance); // what it persists must wait for its first command: a Persist while recovery ends here is never carried out
    }

    /// <summary>What a bayes sweep plans its proposals with: made from its sweep file, off this actor's thread, on the first proposal of this incarnation.</summary>
    BayesPlanner? planner;
    /// <summary>A proposal is being planned (one at a time); the sweep file no longer plans (a teacher checkpoint it names is gone, say).</summary>
    bool planning, plannerBroken;

    /// <summary>
    /// Proposes points for the scheduler's free slots. Planning reads the sweep file and hashes the teachers it names, so
    /// it runs on the thread pool and comes back as <see cref="Planned"/> (or <see cref="PlanningFailed"/>, after which
    /// the sweep proposes nothing more and says why in the log).
    /// </summary>
    void Propose(ProposeJobs request)
    {
        var (now, plan) = state.Decide(request);
        if (now is null && (planning || plannerBroken)) now = new Decision([], [], new NoProposal { SweepId = state.SweepId, Done = plannerBroken });
        if (now is not null)
        {
            Execute(now, Sender, batched: false);
            return;
        }
        planning = true;
        var (known, bayes, outputRoot, replyTo) = (planner, state.Sweep!.Bayes, state.Sweep.OutputRoot, Sender);
        Task.Run(() =>
        {
            var used = known ?? BayesPlanning.For(bayes, outputRoot);
            return new Planned(used, used.Propose(plan!), replyTo);
        }).PipeTo(Self, failure: e => new PlanningFailed(e.GetBaseException() is Distillation.UserInputException user ? user.Message : e.GetBaseException().ToString(), replyTo));
    }

    /// <summary>A proposal planned off the actor's thread, with the planner to keep.</summary>
    sealed record Planned(BayesPlanner Planner, ProposedPoints Points, IActorRef ReplyTo);

    sealed record PlanningFailed(string Error, IActorRef ReplyTo);

    /// <summary>Jobs whose hand-over waited for a retry's backoff (<see cref="Decision.HandOverAfter"/>).</summary>
    sealed record HandOverLater(IReadOnlyList<string> JobIds);

    /// <summary>The first command after a replay: what the recovered sweep does next.</summary>
    sealed class GoOn
    {
        public static readonly GoOn Instance = new();
    }

    /// <summary>Published in this process when an entity has replayed a submitted sweep (the coordinator restarted): its followers pick it up.</summary>
    public sealed record Recovered(string SweepId, string OutputRoot, bool Complete);

    /// <summary>How long a journal write took, from the call to persist to its handler (which runs once the write is stored): published for the metrics.</summary>
    public sealed record JournalWritten(TimeSpan Latency);

    /// <summary>
    /// Persists the decision's events; once all are stored and applied, hands over its jobs, replies, and runs
    /// <paramref name="then"/> (a decision that needs these events applied first).
    /// </summary>
    void Execute(Decision decision, IActorRef sender, bool batched, bool replyAccepted = false, Action? then = null)
    {
        void Done()
        {
            then?.Invoke();
            if (decision.HandOverAfter > TimeSpan.Zero)
                Timers.StartSingleTimer($"hand-over {string.Join(' ', decision.HandOver)}", new HandOverLater(decision.HandOver), decision.HandOverAfter);
            else HandOver(decision.HandOver);
            var reply = decision.Reply ?? (replyAccepted ? state.Accepted() : null);
            if (reply is not null) sender.Tell(reply);
        }
        if (decision.Events.Count == 0)
        {
            Done();
            return;
        }
        int remaining = decision.Events.Count;
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        void Stored(IMessage stored)
        {
            Context.System.EventStream.Publish(new JournalWritten(System.Diagnostics.Stopwatch.GetElapsedTime(start)));
            Published(stored, ApplyStored(stored));
            if (--remaining == 0) Done();
        }
        if (batched) PersistAllAsync(decision.Events, Stored);
        else PersistAll(decision.Events, Stored);
    }

    /// <summary>Applies a stored event, and snapshots the state every <see cref="SnapshotInterval"/> events.</summary>
    Applied ApplyStored(IMessage stored)
    {
        var applied = state.Apply(stored);
        if (++eventsSinceSnapshot < SnapshotInterval) return applied;
        SaveSnapshot(state.Snapshot());
        eventsSinceSnapshot = 0;
        return applied;
    }

    /// <summary>Queues the jobs for the scheduler; those that can run when their turn comes go to it, a window at a time.</summary>
    void HandOver(IReadOnlyList<string> jobIds)
    {
        window.Add(jobIds, state);
        TopUp();
    }

    /// <summary>
    /// Hands the scheduler new attempts at ready jobs (<see cref="DispatchWindow.TopUp"/>); when the reserved attempt
    /// numbers run out it reserves more first (commands wait meanwhile: one write per <see cref="JobGraph.AttemptBlock"/> dispatches).
    /// </summary>
    void TopUp()
    {
        var dispatch = window.TopUp(state);
        foreach (var attempt in dispatch.Attempts) scheduler.Tell(attempt);
        if (dispatch.Reserve is not { } reservation) return;
        Persist(reservation, stored =>
        {
            ApplyStored(stored);
            window.Reserved();
            TopUp();
        });
    }

    /// <summary>Tells this process's watchers (the gRPC Watch streams, the followers) what an applied event changed; never during recovery.</summary>
    void Published(IMessage applied, Applied changed)
    {
        // A bayes sweep's slots free up and fill: the scheduler asks it for points when they are free and nothing is runnable.
        if (applied is SweepSubmitted or SweepResumed or JobStarted or JobCompleted && state.MayPropose) scheduler.Tell(new SweepCanPropose { SweepId = state.SweepId });
        switch (applied)
        {
            case SweepSubmitted:
                PublishSweep(SweepChange.Submitted);
                break;
            case SweepResumed:
                PublishSweep(SweepChange.Resumed);
                break;
            case SweepCancelled:
                PublishSweep(SweepChange.Cancelled);
                window.Clear();
                scheduler.Tell(new CancelSweepJobs { SweepId = state.SweepId }); // it drops their queued jobs and stops the running ones
                break;
            case JobStarted started:
                PublishJob(started.JobId);
                break;
            case JobRequeued requeued:
                PublishJob(requeued.JobId);
                break;
            case PointStopped or TargetReached:
                Stopped(changed.StoppedJobs);
                break;
            case JobCompleted completed:
                var job = PublishJob(completed.JobId);
                log.LogInformation("{Sweep}: {Job}", state.Sweep!.Name, JobLine.Of(job));
                if (state.Complete)
                {
                    PublishSweep(SweepChange.Complete);
                    log.LogInformation("{Sweep}: complete, {Done} of {Jobs} job(s) done", state.Sweep.Name, state.Count(JobState.Done), state.JobCount);
                }
                break;
        }
    }

    /// <summary>
    /// Jobs the sweep stopped: the scheduler drops those it holds and has the running ones' nodes stop them (they report
    /// back stopped, with their best checkpoint's test accuracy); the window takes the next jobs.
    /// </summary>
    void Stopped(IReadOnlyList<string> jobIds)
    {
        foreach (string id in jobIds)
        {
            log.LogInformation("{Sweep}: {Job} {Reason}", state.Sweep!.Name, id, PublishJob(id).StopReason);
            if (window.Stopped(id, state)) scheduler.Tell(new StopJob { SweepId = state.SweepId, JobId = id });
        }
        TopUp();
        if (jobIds.Count > 0 && state.Complete) PublishSweep(SweepChange.Complete);
    }

    JobStatus PublishJob(string jobId)
    {
        var job = state.StatusOf(jobId);
        var (node, slot) = job.State == JobState.Running ? state.Placement(jobId) : ("", 0);
        var changed = new JobStateChanged
        {
            SweepId = state.SweepId, JobId = jobId, Kind = job.Kind, State = job.State, Node = node, Slot = slot, Summary = job.Summary,
            Parameters = { job.Parameters }, Seed = job.Seed, SweepCounts = state.Counts(), StopReason = job.StopReason,
        };
        if (job.Kind == JobKind.Student && job.State is JobState.Done or JobState.Stopped && state.Best() is { } best) changed.SweepBest = best.ToProto();
        Context.System.EventStream.Publish(changed);
        return job;
    }

    void PublishSweep(SweepChange change) => Context.System.EventStream.Publish(new SweepStateChanged
    {
        SweepId = state.SweepId, Change = change, Counts = state.Counts(), TotalJobs = state.JobCount,
    });
}
