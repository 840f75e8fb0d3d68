using Google.Protobuf;
using Orchestrator.Coordinator.Results;
using Orchestrator.Coordinator.Search;
using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.State;

/// <summary>
/// One sweep as a pure state machine, what the cluster's sweep entity persists and serves, composed of parts each
/// tested alone: the <see cref="JobGraph"/> (jobs, dependencies, counters, attempts), the <see cref="Scoreboard"/>
/// (points and their ranking), <see cref="EarlyStopping"/> (hyperband and metric.target), <see cref="Proposals"/>
/// (bayes), and the <see cref="SweepSnapshotCodec"/>. <c>Decide</c> turns a command into the events to persist and the
/// jobs to hand the scheduler once they are; <see cref="Apply"/> applies an event, live or in replay, and returns what
/// it changed that the actor must act on. Neither does I/O nor knows actors.
/// </summary>
public sealed class SweepState
{
    /// <summary>How many times a job may crash its process (TrialSummary.crashed) before it fails for good.</summary>
    public const int MaxCrashes = 3;

    /// <summary>
    /// How many times a job the machine failed (TrialSummary.environmental: a full disk, an I/O error, memory) runs
    /// again by itself, after <see cref="RetryBackoff"/>, before it fails; submitting the sweep again or
    /// <c>orchestrator retry</c> runs it again later.
    /// </summary>
    public const int MaxEnvironmentalRetries = 3;

    /// <summary>How long the <paramref name="retry"/>th retry of a job the machine failed waits: 10 s, 30 s, 90 s (the disk may be freed meanwhile).</summary>
    public static TimeSpan RetryBackoff(int retry) => TimeSpan.FromSeconds(10 * Math.Pow(3, retry - 1));

    readonly JobGraph jobs = new();
    // Made when the sweep is submitted: they read its settings.
    Scoreboard scores = null!;
    EarlyStopping stopping = null!;
    Proposals proposals = null!;

    public SweepState(string sweepId) => SweepId = sweepId;

    public string SweepId { get; }

    /// <summary>The submitted sweep's settings and templates (its jobs are held here, not in it); null until it is submitted.</summary>
    public SubmitSweep? Sweep { get; private set; }

    public SweepCancelled? Cancelled { get; private set; }

    public int JobCount => jobs.Count;

    /// <summary>Every job finished (a cancelled sweep is complete), and a bayes sweep has nothing more to propose.</summary>
    public bool Complete => Sweep is not null && jobs.AllFinished && !MayPropose;

    /// <summary>A bayes sweep that may still propose points: not cancelled, below run_cap, its target not reached.</summary>
    public bool MayPropose => Sweep?.Bayes is not null && Cancelled is null && stopping.Reached is null && proposals.BelowCap;

    public int Proposals => Sweep is null ? 0 : proposals.Count;

    /// <summary>How many jobs of <paramref name="kind"/> are in <paramref name="state"/>.</summary>
    public int Count(JobKind kind, JobState state) => jobs.CountOf(kind, state);

    /// <summary>How many jobs of any kind are in <paramref name="state"/>.</summary>
    public int Count(JobState state) => jobs.CountOf(state);

    // ---- Decisions: what a command comes to, from the state as it is; nothing changes here ----

    public Decision Decide(SubmitSweep submit)
    {
        if (Sweep is null) return new Decision(PlanEvents.Of(submit), submit.Jobs.Where(j => j.DependsOn.Count == 0).Select(j => j.JobId).ToList(), null);
        bool same = Sweep.Bayes is { } bayes // its jobs are proposed as it runs: the same sweep is the same file
            ? submit.Bayes?.SweepFile == bayes.SweepFile
            : submit.Jobs.Select(j => j.JobId).Order(StringComparer.Ordinal).SequenceEqual(jobs.Jobs.Select(j => j.Id).Order(StringComparer.Ordinal));
        if (!same)
            return Rejected(SweepRejected.Types.Reason.Conflict,
                $"sweep '{Sweep.Name}' was submitted before with other trials; give the changed sweep another name (orchestrator fork {Sweep.Name} --set key=value " +
                "writes one): the trials both share are reused, not trained again, so adding values to a grid runs only the new points.");
        // Submitted again: a cancelled sweep resumes, jobs the machine failed run again (with the jobs that failed
        // because they did), and whatever is runnable is handed over (again).
        var (requeued, again) = Requeue(jobs.Retried(allFailed: false), "submitted again: retrying what the machine broke");
        IEnumerable<IMessage> events = Cancelled is not null ? [new SweepResumed(), .. requeued] : requeued;
        var handOver = Cancelled is not null ? jobs.Jobs.Where(j => j.State == JobState.Cancelled && j.DependenciesDone).Select(j => j.Id) : Runnable();
        return new Decision(events.ToList(), handOver.Concat(again).ToList(), null);
    }

    /// <summary>
    /// <c>orchestrator retry</c>: the failed jobs run again (<see cref="JobGraph.Retried"/>), their finished results kept;
    /// those whose dependencies are done are handed over, the others once those are. Refused for a cancelled sweep.
    /// </summary>
    public Decision Decide(RetrySweep retry)
    {
        if (Sweep is null) return Rejected(SweepRejected.Types.Reason.NotFound, $"no sweep '{retry.SweepId}'");
        if (Cancelled is not null)
            return Rejected(SweepRejected.Types.Reason.Cancelled, $"sweep '{Sweep.Name}' is cancelled; submit it again to resume it (that retries what the machine failed too).");
        var (requeued, handOver) = Requeue(jobs.Retried(retry.AllFailed), retry.AllFailed ? "retried: every failed trial" : "retried: what the machine broke");
        return new Decision(requeued, handOver, new SweepRetryAccepted { SweepId = SweepId, Retried = requeued.Count });
    }

    /// <summary>
    /// The events that queue failed jobs again, and those of them to hand over now: a retried job whose dependency is
    /// retried too is handed over when that one is done, as the first time.
    /// </summary>
    static (List<IMessage> Events, List<string> HandOver) Requeue(List<SweepJob> retried, string reason) =>
        (retried.Select(j => (IMessage)new JobRequeued { JobId = j.Id, Reason = reason }).ToList(),
         retried.Where(j => j.DependenciesDone).Select(j => j.Id).ToList());

    public Decision Decide(JobAssigned assigned) =>
        IsCurrent(assigned.JobId, assigned.Attempt)
            ? Decision.Only([new JobStarted { JobId = assigned.JobId, Node = assigned.Node, Slot = assigned.Slot, Attempt = assigned.Attempt }])
            : Decision.None;

    /// <summary>Whether <paramref name="attempt"/> is the job's current attempt and the job unfinished: only its reports count.</summary>
    public bool IsCurrent(string jobId, long attempt) => jobs.IsCurrent(jobId, attempt);

    /// <summary>
    /// A job's node reports it ended. A job its node cancelled (the node stopped) and one whose process crashed run again
    /// from their last checkpoint, a crash only <see cref="MaxCrashes"/> times; otherwise it completes, and when it
    /// failed, so does every job that waits for it, directly or not, with the reason.
    /// </summary>
    public Decision Decide(JobFinished finished)
    {
        if (!IsCurrent(finished.JobId, finished.Attempt)) return Decision.None;
        var job = jobs[finished.JobId];
        var summary = finished.Summary;
        if (summary.Status == TrialStatus.Cancelled)
            return new Decision([new JobRequeued { JobId = job.Id, Reason = "cancelled by its node" }], [job.Id], null);
        if (summary.Crashed && job.Crashes + 1 < MaxCrashes)
            return new Decision([new JobRequeued { JobId = job.Id, Reason = summary.FailureReason, Crashed = true }], [job.Id], null);
        if (!Succeeded(summary) && summary.Environmental && job.EnvironmentalRetries < MaxEnvironmentalRetries)
            return new Decision([new JobRequeued { JobId = job.Id, Reason = summary.FailureReason, Environmental = true }], [job.Id], null)
                { HandOverAfter = RetryBackoff(job.EnvironmentalRetries + 1) };
        if (summary.Crashed || summary.Environmental)
        {
            summary = summary.Clone();
            summary.FailureReason += summary.Crashed ? $" (its process crashed {MaxCrashes} times; not run again)"
                : $" (the machine's failure, after {MaxEnvironmentalRetries} retries; submit the sweep again or run orchestrator retry once it is fixed)";
        }
        if (summary.Status == TrialStatus.Stopped)
        {
            summary = summary.Clone();
            summary.StopReason = job.StopReason ?? "stopped by its sweep";
        }
        var completed = new JobCompleted { JobId = job.Id, Summary = summary };
        if (StateOf(summary) == JobState.Failed) return new Decision([completed, .. JobGraph.FailuresOf(job, summary.FailureReason)], [], null);
        // Its dependents may run once it is done: each is checked when the events are applied, since its other
        // dependencies' completions may still be on their way to the journal (decided, not yet applied).
        return new Decision([completed], job.Dependents.Where(d => !d.Finished).Select(d => d.Id).ToList(), null);
    }

    /// <summary>A job's node left the cluster: it is queued again, and runs as a new attempt (the node may still be running the old one).</summary>
    public Decision Decide(JobLost lost) =>
        IsCurrent(lost.JobId, lost.Attempt)
            ? new Decision([new JobRequeued { JobId = lost.JobId, Reason = lost.Reason }], [lost.JobId], null)
            : Decision.None;

    public Decision Decide(CancelSweep cancel)
    {
        if (Sweep is null) return Rejected(SweepRejected.Types.Reason.NotFound, $"no sweep '{cancel.SweepId}'");
        int unfinished = jobs.Count - jobs.FinishedCount;
        return unfinished == 0
            ? new Decision([], [], new SweepCancelAccepted { SweepId = SweepId, WasRunning = false })
            : new Decision([new SweepCancelled { Reason = cancel.Reason }], [], new SweepCancelAccepted { SweepId = SweepId, Cancelled = unfinished, WasRunning = true });
    }

    /// <summary>A node measured an epoch (<see cref="EarlyStopping.Decide"/>).</summary>
    public Decision Decide(JobProgress progress) => Sweep is null ? Decision.None : stopping.Decide(progress);

    /// <summary>Whether the epoch is one at which early termination compares points (the entity then asks <see cref="DecideStops"/>).</summary>
    public bool IsBand(int epoch) => Sweep is not null && stopping.IsBand(epoch);

    /// <summary>The points hyperband stops now (<see cref="EarlyStopping.DecideStops"/>).</summary>
    public IReadOnlyList<IMessage> DecideStops() => Sweep is null ? [] : stopping.DecideStops();

    /// <summary>Whether a point reached metric.target (<see cref="EarlyStopping.DecideTarget"/>).</summary>
    public IReadOnlyList<IMessage> DecideTarget(string? jobId) => Sweep is null ? [] : stopping.DecideTarget(jobId);

    /// <summary>
    /// Free slots asked a bayes sweep for points: the reply at once when it has none to give (done once nothing more
    /// will be proposed), or the request its planner answers off the actor's thread (<see cref="Decide(ProposedPoints)"/>).
    /// </summary>
    public (Decision? Now, ProposalRequest? Plan) Decide(ProposeJobs request)
    {
        if (!MayPropose) return (new Decision([], [], new NoProposal { SweepId = SweepId, Done = true }), null);
        return proposals.Request(request) is { } plan ? (null, plan) : (new Decision([], [], new NoProposal { SweepId = SweepId }), null);
    }

    /// <summary>The points a planner proposed, as events (a sweep cancelled meanwhile takes none).</summary>
    public Decision Decide(ProposedPoints proposed) =>
        MayPropose ? proposals.Decide(proposed, SweepId) : new Decision([], [], new NoProposal { SweepId = SweepId, Done = true });

    /// <summary>Both halves of a proposal at once, the planner's I/O on the caller's thread: for tests and tools, not for an actor.</summary>
    public Decision Decide(ProposeJobs request, BayesPlanner planner)
    {
        var (now, plan) = Decide(request);
        return now ?? Decide(planner.Propose(plan!));
    }

    /// <summary>
    /// After a replay: failures of jobs whose dependency failed but that were not failed with it (a journal written
    /// before failures were persisted with their cause). Normally none.
    /// </summary>
    public IReadOnlyList<IMessage> DecideAfterRecovery() =>
        jobs.Jobs.Where(j => !j.Finished && j.Dependencies.Any(d => d.State == JobState.Failed))
            .SelectMany(j =>
            {
                var cause = j.Dependencies.First(d => d.State == JobState.Failed);
                string reason = $"{cause.Id} failed: {cause.Summary?.FailureReason}";
                return new IMessage[] { new JobCompleted { JobId = j.Id, Summary = JobGraph.Failure(j, reason) } }.Concat(JobGraph.FailuresOf(j, reason));
            })
            .DistinctBy(e => ((JobCompleted)e).JobId).ToList();

    /// <summary>The jobs that can run now: unfinished, every dependency done, the sweep not cancelled. After a restart, all of them go to the scheduler.</summary>
    public IReadOnlyList<string> Runnable() => Cancelled is not null ? [] : jobs.Runnable().Select(j => j.Id).ToList();

    /// <summary>Whether the job started before (it resumes from its checkpoint, ahead of jobs that never ran).</summary>
    public bool Started(string jobId) => jobs.TryGet(jobId, out var job) && job.Started;

    /// <summary>Whether the job can run now (a decision's hand-over, checked once its events are applied).</summary>
    public bool CanRun(string jobId) => Cancelled is null && jobs.TryGet(jobId, out var job) && !job.Finished && job.DependenciesDone;

    static bool Succeeded(TrialSummary summary) => summary.Status is TrialStatus.Completed or TrialStatus.EarlyStopped;

    /// <summary>A trial that trained to a result: completed, early-stopped, or stopped by the sweep after an epoch (its best checkpoint's).</summary>
    static bool HasResult(TrialSummary summary) => Succeeded(summary) || summary is { Status: TrialStatus.Stopped, BestEpoch: > 0 };

    static JobState StateOf(TrialSummary summary) =>
        summary.Status == TrialStatus.Stopped ? JobState.Stopped : Succeeded(summary) ? JobState.Done : JobState.Failed;

    Decision Rejected(SweepRejected.Types.Reason reason, string message) =>
        new([], [], new SweepRejected { SweepId = SweepId, Reason = reason, Message = message });

    // ---- Events: how each changes the state, live or in replay ----

    /// <summary>Applies an event; what it returns names the jobs it stopped, for the actor to tell the scheduler.</summary>
    public Applied Apply(IMessage sweepEvent)
    {
        switch (sweepEvent)
        {
            case SweepSubmitted submitted:
                Sweep = submitted.Sweep.Clone();
                Sweep.Jobs.Clear(); // held in the plan's chunks
                scores = new Scoreboard(Sweep.Metric, Sweep.Maximize, Scoreboard.MeasuredBy(Sweep.Metric, Sweep.Objectives, Sweep.Constraints));
                stopping = new EarlyStopping(Sweep, jobs, scores);
                proposals = new Proposals(Sweep, jobs, scores, stopping);
                jobs.AddTemplates(submitted.Sweep.Templates);
                if (submitted.Sweep.Jobs.Count > 0) AddJobs(PlanChunk.Of(submitted.Sweep.Jobs)); // none in a snapshot's: its plan follows
                break;
            case SweepJobsPlanned planned:
                AddJobs(new PlanChunk(planned.ToByteArray()));
                break;
            case JobStarted started:
                var running = jobs[started.JobId];
                jobs.Move(running, JobState.Running);
                (running.Node, running.Slot, running.Started) = (started.Node, started.Slot, true);
                break;
            case AttemptsReserved reserved:
                jobs.Reserved(reserved);
                break;
            case JobCompleted completed:
                var done = jobs[completed.JobId];
                bool newlyScored = done.State is not (JobState.Done or JobState.Stopped) && HasResult(completed.Summary);
                done.Summary = completed.Summary;
                jobs.Move(done, StateOf(completed.Summary));
                if (done is { State: JobState.Done, Trace: { } trace }) trace.StopReason = null; // it finished before its stop reached it
                if (newlyScored && done.Kind == JobKind.Student) scores.Score(SweepResults.PointKey(done.Plan.Parameters), done.Index, completed.Summary);
                proposals.Finished(done);
                break;
            case JobRequeued requeued:
                var again = jobs[requeued.JobId];
                if (requeued.Crashed) again.Crashes++;
                if (again.Finished) (again.Summary, again.EnvironmentalRetries) = (null, 0); // a failure retried: its old summary is no longer its result
                else if (requeued.Environmental) again.EnvironmentalRetries++;
                jobs.Move(again, JobState.Queued);
                break;
            case SweepCancelled cancelled:
                Cancelled = cancelled;
                foreach (var job in jobs.Jobs.Where(j => !j.Finished)) jobs.Move(job, JobState.Cancelled);
                break;
            case SweepResumed:
                Cancelled = null;
                foreach (var job in jobs.Jobs.Where(j => j.State == JobState.Cancelled)) jobs.Move(job, JobState.Queued);
                break;
            case EpochMeasured measured:
                stopping.Apply(measured);
                break;
            case PointStopped stopped:
                return stopping.Apply(stopped);
            case TargetReached reached:
                return stopping.Apply(reached);
            case PointProposed proposed:
                proposals.Apply(proposed);
                break;
            default:
                throw new ArgumentException($"not an event of a sweep: {sweepEvent.Descriptor.FullName}", nameof(sweepEvent));
        }
        return Applied.Nothing;
    }

    void AddJobs(PlanChunk chunk) => jobs.Add(chunk, stopping.Track);

    /// <summary>The whole state as one message (<see cref="SweepSnapshotCodec"/>).</summary>
    public SweepSnapshot Snapshot()
    {
        if (Sweep is null) throw new InvalidOperationException("nothing to snapshot before the sweep is submitted");
        return SweepSnapshotCodec.Write(Sweep, Cancelled, jobs, scores, stopping, proposals);
    }

    /// <summary>Takes the state a snapshot holds; the events after it are applied next.</summary>
    public void Restore(SweepSnapshot snapshot)
    {
        if (Sweep is not null) throw new InvalidOperationException("a snapshot is restored into an empty state only");
        Apply(new SweepSubmitted { Sweep = snapshot.Sweep });
        foreach (var chunk in snapshot.Plan) AddJobs(new PlanChunk(chunk.ToByteArray()));
        Cancelled = snapshot.Cancelled;
        SweepSnapshotCodec.Read(snapshot, jobs, scores, stopping, proposals);
    }

    /// <summary>After a replay: running jobs are queued again, and attempts numbered above any the old incarnation gave out (<see cref="JobGraph.Recovered"/>).</summary>
    public void Recovered() => jobs.Recovered();

    /// <summary>The event to persist before the next attempt can be given out; null while one is left.</summary>
    public AttemptsReserved? AttemptsNeeded() => jobs.AttemptsNeeded();

    /// <summary>
    /// A new attempt at a job that <see cref="CanRun"/>, for the scheduler: the job with the next attempt number, which
    /// from now on is its only current one. A job that started before resumes ahead of those that never did.
    /// </summary>
    public EnqueueJob NextAttempt(string jobId)
    {
        var job = jobs[jobId];
        long attempt = jobs.NextAttempt(job);
        var spec = Spec(jobId);
        spec.Attempt = attempt;
        return new EnqueueJob { Job = spec, Resume = job.Started };
    }

    // ---- Views ----

    /// <summary>The best point so far on the sweep's validation metric (never the test set); null before a student finished.</summary>
    public SweepResults.Recipe? Best() => Sweep is null ? null : scores.Best((_, first) => jobs[first].Plan.Parameters);

    /// <summary>With several objectives, the Pareto front of the points that keep the constraints, best first by the first objective.</summary>
    public IReadOnlyList<SweepResults.Recipe> Front() =>
        Sweep is null ? [] : scores.Front(Sweep.Objectives, Sweep.Constraints, (_, first) => jobs[first].Plan.Parameters);

    /// <summary>How many jobs are in each state.</summary>
    public JobCounts Counts() => jobs.Counts();

    /// <summary>The job ready to run, as the scheduler hands it to a slot.</summary>
    public JobSpec Spec(string jobId)
    {
        var job = jobs[jobId];
        var plan = job.Plan;
        return new JobSpec
        {
            SweepId = SweepId, JobId = jobId, Kind = job.Kind, WorkJson = jobs.WorkOf(plan), Epochs = plan.Epochs,
            OutputDirectory = Path.Combine(Sweep!.OutputRoot, jobId), SoftTargetStore = Sweep.SoftTargetStore, StopReason = job.StopReason ?? "",
            PackGroup = plan.PackGroup,
        };
    }

    public JobStatus StatusOf(string jobId) => StatusOf(jobs[jobId]);

    static JobStatus StatusOf(SweepJob job)
    {
        var plan = job.Plan;
        var entry = new JobStatus
        {
            JobId = job.Id, Kind = job.Kind, State = job.State, DependsOn = { plan.DependsOn }, Seed = plan.Seed, Parameters = { plan.Parameters },
            Baseline = plan.Baseline, StopReason = job.StopReason ?? "", PlanIndex = job.Index,
        };
        if (job.Summary is { } summary) entry.Summary = summary;
        return entry;
    }

    /// <summary>(node, slot) of a running job, as its last JobStarted said.</summary>
    public (string Node, int Slot) Placement(string jobId) => (jobs[jobId].Node, jobs[jobId].Slot);

    public SweepAccepted Accepted() => new() { SweepId = SweepId, Jobs = jobs.Count, AlreadyDone = jobs.FinishedCount, PriorPoints = Sweep?.Bayes?.Prior.Count ?? 0 };

    /// <summary>
    /// The sweep's counts and best point (O(1)), and its jobs from <paramref name="jobsOffset"/>, at most
    /// <paramref name="jobsLimit"/> of them, in results order (O(page) once the order is made).
    /// </summary>
    public SweepStatus Status(int jobsOffset = 0, int jobsLimit = int.MaxValue)
    {
        var status = new SweepStatus { SweepId = SweepId };
        if (Sweep is null) return status;
        status.TotalJobs = jobs.Count;
        status.Counts = jobs.Counts();
        foreach (var kind in Enum.GetValues<JobKind>().Where(k => k != JobKind.Unspecified))
            if (SweepResults.KindNames.TryGetValue(kind, out string? name)) status.CountsByKind[name] = jobs.Counts(kind);
        if (Best() is { } best) status.Best = best.ToProto();
        status.Name = Sweep.Name;
        status.OutputRoot = Sweep.OutputRoot;
        status.Metric = Sweep.Metric;
        status.Maximize = Sweep.Maximize;
        status.Complete = Complete;
        status.Cancelled = Cancelled is not null;
        status.CancelReason = Cancelled?.Reason ?? "";
        status.ParameterNames.Add(jobs.ParameterNames);
        status.Objectives.Add(Sweep.Objectives);
        status.Constraints.Add(Sweep.Constraints);
        if (Sweep.Objectives.Count > 0) status.Front.Add(Front().Select(r => r.ToProto()));
        foreach (var job in jobs.Page(jobsOffset, jobsLimit)) status.Jobs.Add(StatusOf(job));
        return status;
    }
}
