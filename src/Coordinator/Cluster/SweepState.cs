using Google.Protobuf;
using Orchestrator.Protocol.V1;
using JobStates = Orchestrator.Coordinator.Sweeps.JobStates;

namespace Orchestrator.Coordinator.Cluster;

/// <summary>
/// One sweep as a pure state machine, what <see cref="SweepEntity"/> persists and serves: the job graph, each job's
/// state, summary and crash count, and counters by kind and state kept as events apply (no scan of the jobs per event).
/// <see cref="Decide(JobFinished)"/> and its siblings turn a command into the events to persist and the jobs to hand the
/// scheduler once they are; <see cref="Apply"/> applies an event, live or in replay. Neither does I/O nor knows actors.
/// </summary>
public sealed partial class SweepState
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

    /// <summary>A job as the state holds it: its plan stays in its chunk's bytes (<see cref="PlanChunk"/>), its summary serialized.</summary>
    sealed class Job(PlanChunk chunk, PlanChunk.Entry entry, int index)
    {
        readonly PlanChunk.Entry entry = entry;
        byte[]? summary;

        public string Id => entry.Id;
        public JobKind Kind => entry.Kind;
        public int Index { get; } = index;
        /// <summary>Parsed from the plan's bytes on each call: a fresh message, the caller's to keep.</summary>
        public PlannedJob Plan => chunk.Job(entry);
        public JobState State { get; set; } = JobState.Queued;
        /// <summary>Parsed on each call, as <see cref="Plan"/>; 300-odd bytes per finished trial, where the parsed message is about twice that.</summary>
        public TrialSummary? Summary
        {
            get => summary is null ? null : TrialSummary.Parser.ParseFrom(summary);
            set => summary = value?.ToByteArray();
        }
        public byte[]? SummaryBytes { get => summary; set => summary = value; }
        public int Crashes { get; set; }
        public int EnvironmentalRetries { get; set; }
        public string Node { get; set; } = "";
        public int Slot { get; set; }
        /// <summary>The attempt this incarnation handed over last (0: none): the only one whose reports count.</summary>
        public long Attempt { get; set; }
        /// <summary>It started at least once (it may have a checkpoint to resume from).</summary>
        public bool Started { get; set; }
        // Made on the first link: most jobs of a large sweep have one dependency or none, and no dependents.
        List<Job>? dependents, dependencies;
        public IReadOnlyList<Job> Dependents => (IReadOnlyList<Job>?)dependents ?? [];
        public IReadOnlyList<Job> Dependencies => (IReadOnlyList<Job>?)dependencies ?? [];

        public void DependsOn(Job on)
        {
            (dependencies ??= []).Add(on);
            (on.dependents ??= []).Add(this);
        }
        public bool Finished => JobStates.IsFinished(State);
        /// <summary>A student of a sweep that may stop students (early termination, metric.target); null otherwise.</summary>
        public Trace? Trace { get; set; }
    }

    /// <summary>
    /// What a command comes to: the events to persist (in order), the jobs to hand the scheduler once they are
    /// applied (those that <see cref="CanRun"/> then; after <see cref="HandOverAfter"/>, a retry's backoff), and the reply.
    /// </summary>
    public sealed record Decision(IReadOnlyList<IMessage> Events, IReadOnlyList<string> HandOver, IMessage? Reply)
    {
        public static readonly Decision None = new([], [], null);

        public TimeSpan HandOverAfter { get; init; }
    }

    static readonly int Kinds = Enum.GetValues<JobKind>().Length, States = Enum.GetValues<JobState>().Length;

    /// <summary>The most a plan event carries (SweepSubmitted, then SweepJobsPlanned), in serialized bytes.</summary>
    public const int MaxPlanEventBytes = 1 << 20;

    /// <summary>
    /// Attempt numbers reserved by one <see cref="AttemptsReserved"/> event: one event per this many dispatches. After a
    /// restart numbering goes on above the last reservation, so no attempt number is ever given out twice.
    /// </summary>
    public const int AttemptBlock = 10_000;

    long attemptsReserved, lastAttempt;

    readonly List<Job> jobs = [];
    /// <summary>The plan as persisted, chunk by chunk: the jobs' <see cref="PlannedJob"/>s are read from it.</summary>
    readonly List<PlanChunk> plan = [];
    readonly Dictionary<string, Job> byId = [];
    /// <summary>Jobs whose dependency is in a later plan chunk, by that dependency's id.</summary>
    readonly Dictionary<string, List<Job>> waitingForPlan = [];
    readonly List<System.Text.Json.Nodes.JsonNode?> templates = [];
    readonly int[] counts = new int[Kinds * States];
    int finished;
    /// <summary>The jobs in results order (<see cref="Sweeps.SweepResults.InTableOrder"/>): sorted once, when a page is first asked for after the plan grew, so that a page costs O(page).</summary>
    Job[]? tableOrder;
    /// <summary>Every parameter name of the planned jobs: the results' columns.</summary>
    readonly SortedSet<string> parameterNames = new(StringComparer.Ordinal);

    /// <summary>Each point's finished students (what its seeds are averaged over), by <see cref="Sweeps.SweepResults.PointKey"/>.</summary>
    readonly Dictionary<string, Point> points = [];
    /// <summary>
    /// Points by mean metric; among equal means the point whose first finished student comes first in the plan is the
    /// better, as <see cref="Sweeps.SweepResults.Recipes"/> ranks them. Made when the first student finishes (its order
    /// depends on the goal).
    /// </summary>
    SortedSet<(double Mean, int First, string Key)>? ranking;

    /// <summary>
    /// A point's finished runs as running moments (Welford), so a finished student costs the same however many runs its
    /// point has. Its parameters are those of its first finished student (<see cref="First"/>), read from the plan.
    /// </summary>
    sealed class Point(int first)
    {
        public int First { get; set; } = first;
        /// <summary>Read from the plan the first time the point is shown (most points never are).</summary>
        public IReadOnlyDictionary<string, string>? Parameters { get; set; }
        public int Runs { get; private set; }
        public double Mean { get; private set; }
        public double TestMean { get; private set; }
        double squares, testSquares;

        public void Add(double metric, double test)
        {
            Runs++;
            double delta = metric - Mean, testDelta = test - TestMean;
            Mean += delta / Runs;
            TestMean += testDelta / Runs;
            squares += delta * (metric - Mean);
            testSquares += testDelta * (test - TestMean);
        }

        /// <summary>Mean and sample standard deviation of the metric and of the test accuracy, as <see cref="Sweeps.SweepResults.Recipe.Of"/> gives them.</summary>
        public Sweeps.SweepResults.Recipe Recipe(IReadOnlyDictionary<string, string> parameters) => new(parameters, Runs, Mean,
            Runs < 2 ? 0 : Math.Sqrt(squares / (Runs - 1)), TestMean, Runs < 2 ? 0 : Math.Sqrt(testSquares / (Runs - 1)));

        public PointSnapshot Saved(string key) => new()
        {
            Key = key, First = First, Runs = Runs, Mean = Mean, TestMean = TestMean, Squares = squares, TestSquares = testSquares,
        };

        public static Point Of(PointSnapshot saved) => new(saved.First)
        {
            Runs = saved.Runs, Mean = saved.Mean, TestMean = saved.TestMean, squares = saved.Squares, testSquares = saved.TestSquares,
        };
    }

    public SweepState(string sweepId) => SweepId = sweepId;

    public string SweepId { get; }

    /// <summary>The submitted sweep's settings and templates (its jobs are held here, not in it); null until it is submitted.</summary>
    public SubmitSweep? Sweep { get; private set; }

    public SweepCancelled? Cancelled { get; private set; }

    public int JobCount => jobs.Count;

    /// <summary>Every job finished (a cancelled sweep is complete), and a bayes sweep has nothing more to propose.</summary>
    public bool Complete => Sweep is not null && finished == jobs.Count && !MayPropose;

    /// <summary>How many jobs of <paramref name="kind"/> are in <paramref name="state"/>.</summary>
    public int Count(JobKind kind, JobState state) => counts[(int)kind * States + (int)state];

    /// <summary>How many jobs of any kind are in <paramref name="state"/>.</summary>
    public int Count(JobState state)
    {
        int total = 0;
        for (int kind = 0; kind < Kinds; kind++) total += counts[kind * States + (int)state];
        return total;
    }

    // ---- Decisions: what a command comes to, from the state as it is; nothing changes here ----

    public Decision Decide(SubmitSweep submit)
    {
        if (Sweep is null) return new Decision(PlanEvents(submit), submit.Jobs.Where(j => j.DependsOn.Count == 0).Select(j => j.JobId).ToList(), null);
        bool same = Sweep.Bayes is { } bayes // its jobs are proposed as it runs: the same sweep is the same file
            ? submit.Bayes?.SweepFile == bayes.SweepFile
            : submit.Jobs.Select(j => j.JobId).Order(StringComparer.Ordinal).SequenceEqual(jobs.Select(j => j.Id).Order(StringComparer.Ordinal));
        if (!same)
            return Rejected(SweepRejected.Types.Reason.Conflict,
                $"sweep '{Sweep.Name}' was submitted before with other trials; give the changed sweep another name or output folder.");
        // Submitted again: a cancelled sweep resumes, jobs the machine failed run again (with the jobs that failed
        // because they did), and whatever is runnable is handed over (again).
        var (requeued, again) = Requeue(Retried(allFailed: false), "submitted again: retrying what the machine broke");
        IEnumerable<IMessage> events = Cancelled is not null ? [new SweepResumed(), .. requeued] : requeued;
        var handOver = Cancelled is not null ? jobs.Where(j => j.State == JobState.Cancelled && DependenciesDone(j)).Select(j => j.Id) : Runnable();
        return new Decision(events.ToList(), handOver.Concat(again).ToList(), null);
    }

    /// <summary>
    /// <c>orchestrator retry</c>: the failed jobs run again (<see cref="Retried"/>), their finished results kept; those
    /// whose dependencies are done are handed over, the others once those are. Refused for a cancelled sweep.
    /// </summary>
    public Decision Decide(RetrySweep retry)
    {
        if (Sweep is null) return Rejected(SweepRejected.Types.Reason.NotFound, $"no sweep '{retry.SweepId}'");
        if (Cancelled is not null)
            return Rejected(SweepRejected.Types.Reason.Cancelled, $"sweep '{Sweep.Name}' is cancelled; submit it again to resume it (that retries what the machine failed too).");
        var (requeued, handOver) = Requeue(Retried(retry.AllFailed), retry.AllFailed ? "retried: every failed trial" : "retried: what the machine broke");
        return new Decision(requeued, handOver, new SweepRetryAccepted { SweepId = SweepId, Retried = requeued.Count });
    }

    /// <summary>
    /// The events that queue failed jobs again, and those of them to hand over now: a retried job whose dependency is
    /// retried too is handed over when that one is done, as the first time.
    /// </summary>
    (List<IMessage> Events, List<string> HandOver) Requeue(List<Job> retried, string reason) =>
        (retried.Select(j => (IMessage)new JobRequeued { JobId = j.Id, Reason = reason }).ToList(),
         retried.Where(DependenciesDone).Select(j => j.Id).ToList());

    /// <summary>
    /// The failed jobs to run again: those the machine failed (<see cref="TrialSummary.Environmental"/>), or every
    /// failed one with <paramref name="allFailed"/>, and every job that failed because one of them did.
    /// </summary>
    List<Job> Retried(bool allFailed)
    {
        var retried = new HashSet<Job>(jobs.Where(j => j.State == JobState.Failed && (allFailed || j.Summary is { Environmental: true })));
        var waiting = new Queue<Job>(retried);
        while (waiting.TryDequeue(out var job))
            foreach (var dependent in job.Dependents.Where(d => d.State == JobState.Failed && retried.Add(d))) waiting.Enqueue(dependent);
        return jobs.Where(retried.Contains).ToList();
    }

    public Decision Decide(JobAssigned assigned) =>
        IsCurrent(assigned.JobId, assigned.Attempt)
            ? new Decision([new JobStarted { JobId = assigned.JobId, Node = assigned.Node, Slot = assigned.Slot, Attempt = assigned.Attempt }], [], null)
            : Decision.None;

    /// <summary>
    /// Whether <paramref name="attempt"/> is the job's current attempt and the job unfinished: only its reports count.
    /// One superseded (its node was lost, or the coordinator restarted since) changes nothing.
    /// </summary>
    public bool IsCurrent(string jobId, long attempt) => byId.TryGetValue(jobId, out var job) && !job.Finished && job.Attempt == attempt;

    /// <summary>
    /// A job's node reports it ended. A job its node cancelled (the node stopped) and one whose process crashed run again
    /// from their last checkpoint, a crash only <see cref="MaxCrashes"/> times; otherwise it completes, and when it
    /// failed, so does every job that waits for it, directly or not, with the reason.
    /// </summary>
    public Decision Decide(JobFinished finished)
    {
        if (!IsCurrent(finished.JobId, finished.Attempt)) return Decision.None;
        var job = byId[finished.JobId];
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
            summary.StopReason = job.Trace?.StopReason ?? "stopped by its sweep";
        }
        var completed = new JobCompleted { JobId = job.Id, Summary = summary };
        if (StateOf(summary) == JobState.Failed) return new Decision([completed, .. FailuresOf(job, summary.FailureReason)], [], null);
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
        int unfinished = jobs.Count - finished;
        return unfinished == 0
            ? new Decision([], [], new SweepCancelAccepted { SweepId = SweepId, WasRunning = false })
            : new Decision([new SweepCancelled { Reason = cancel.Reason }], [], new SweepCancelAccepted { SweepId = SweepId, Cancelled = unfinished, WasRunning = true });
    }

    /// <summary>
    /// After a replay: failures of jobs whose dependency failed but that were not failed with it (a journal written
    /// before failures were persisted with their cause). Normally none.
    /// </summary>
    public IReadOnlyList<IMessage> DecideAfterRecovery() =>
        jobs.Where(j => !j.Finished && j.Dependencies.Any(d => d.State == JobState.Failed))
            .SelectMany(j =>
            {
                var cause = j.Dependencies.First(d => d.State == JobState.Failed);
                string reason = $"{cause.Id} failed: {cause.Summary?.FailureReason}";
                return new IMessage[] { new JobCompleted { JobId = j.Id, Summary = Failure(j, reason) } }.Concat(FailuresOf(j, reason));
            })
            .DistinctBy(e => ((JobCompleted)e).JobId).ToList();

    /// <summary>The jobs that can run now: unfinished, every dependency done, the sweep not cancelled. After a restart, all of them go to the scheduler.</summary>
    public IReadOnlyList<string> Runnable() => Cancelled is not null ? [] : jobs.Where(j => !j.Finished && DependenciesDone(j)).Select(j => j.Id).ToList();

    /// <summary>Whether the job started before (it resumes from its checkpoint, ahead of jobs that never ran).</summary>
    public bool Started(string jobId) => byId.TryGetValue(jobId, out var job) && job.Started;

    /// <summary>Whether the job can run now (a decision's hand-over, checked once its events are applied).</summary>
    public bool CanRun(string jobId) => Cancelled is null && byId.TryGetValue(jobId, out var job) && !job.Finished && DependenciesDone(job);

    static bool DependenciesDone(Job job) => job.Dependencies.All(d => d.State == JobState.Done);

    /// <summary>
    /// The events a new sweep is persisted as: its settings, one template per job kind and the first jobs, then the
    /// other jobs in chunks (serialized as they are planned), no event over <see cref="MaxPlanEventBytes"/>; each job
    /// as its template's overrides.
    /// </summary>
    static List<IMessage> PlanEvents(SubmitSweep submit)
    {
        var header = new SubmitSweep
        {
            SweepId = submit.SweepId, Name = submit.Name, Metric = submit.Metric, Maximize = submit.Maximize, OutputRoot = submit.OutputRoot,
            SoftTargetStore = submit.SoftTargetStore, Templates = { submit.Templates }, EarlyTermination = submit.EarlyTermination, Bayes = submit.Bayes,
            Pack = submit.Pack,
        };
        if (submit.HasTarget) header.Target = submit.Target;
        var templateOf = new Dictionary<JobKind, int>();
        var parsed = new List<System.Text.Json.Nodes.JsonNode?>();
        var events = new List<IMessage> { new SweepSubmitted { Sweep = header } };
        SweepJobsPlanned? chunk = null; // after the first chunk, in the header
        long size = header.CalculateSize();
        foreach (var job in submit.Jobs)
        {
            var planned = job;
            if (job.Template == 0 && job.WorkJson.Length > 0)
            {
                if (!templateOf.TryGetValue(job.Kind, out int template))
                {
                    header.Templates.Add(job.WorkJson);
                    parsed.Add(System.Text.Json.Nodes.JsonNode.Parse(job.WorkJson));
                    templateOf[job.Kind] = template = header.Templates.Count;
                    size += job.WorkJson.Length + 8;
                }
                planned = job.Clone();
                planned.WorkJson = "";
                planned.Template = template;
                planned.OverridesJson = job.WorkJson == header.Templates[template - 1] ? "{}" : Sweeps.JsonMergePatch.Diff(parsed[template - 1], job.WorkJson);
            }
            int bytes = planned.CalculateSize() + 8;
            if (size + bytes > MaxPlanEventBytes && (chunk?.Jobs.Count ?? header.Jobs.Count) > 0)
            {
                events.Add(chunk = new SweepJobsPlanned());
                size = 0;
            }
            if (chunk is null) header.Jobs.Add(planned);
            else chunk.Jobs.Add(planned.ToByteString());
            size += bytes;
        }
        return events;
    }

    /// <summary>Every job that waits for <paramref name="failed"/>, directly or not, failed in turn with the chain of reasons.</summary>
    static IEnumerable<IMessage> FailuresOf(Job failed, string reason)
    {
        var seen = new HashSet<Job>();
        var pending = new Queue<(Job Job, string Reason)>(failed.Dependents.Select(d => (d, $"{failed.Id} failed: {reason}")));
        while (pending.TryDequeue(out var next))
        {
            if (next.Job.Finished || !seen.Add(next.Job)) continue;
            yield return new JobCompleted { JobId = next.Job.Id, Summary = Failure(next.Job, next.Reason) };
            foreach (var dependent in next.Job.Dependents) pending.Enqueue((dependent, $"{next.Job.Id} failed: {next.Reason}"));
        }
    }

    static TrialSummary Failure(Job job, string reason) => new() { Name = job.Id, Status = TrialStatus.Failed, FailureReason = reason };

    static bool Succeeded(TrialSummary summary) => summary.Status is TrialStatus.Completed or TrialStatus.EarlyStopped;

    /// <summary>A trial that trained to a result: completed, early-stopped, or stopped by the sweep after an epoch (its best checkpoint's).</summary>
    static bool HasResult(TrialSummary summary) => Succeeded(summary) || summary is { Status: TrialStatus.Stopped, BestEpoch: > 0 };

    static JobState StateOf(TrialSummary summary) =>
        summary.Status == TrialStatus.Stopped ? JobState.Stopped : Succeeded(summary) ? JobState.Done : JobState.Failed;

    Decision Rejected(SweepRejected.Types.Reason reason, string message) =>
        new([], [], new SweepRejected { SweepId = SweepId, Reason = reason, Message = message });

    // ---- Events: how each changes the state, live or in replay ----

    public void Apply(IMessage sweepEvent)
    {
        switch (sweepEvent)
        {
            case SweepSubmitted submitted:
                Sweep = submitted.Sweep.Clone();
                Sweep.Jobs.Clear(); // held in the plan's chunks
                templates.AddRange(submitted.Sweep.Templates.Select(t => System.Text.Json.Nodes.JsonNode.Parse(t)));
                if (submitted.Sweep.Jobs.Count > 0) AddJobs(PlanChunk.Of(submitted.Sweep.Jobs)); // none in a snapshot's: its plan follows
                break;
            case SweepJobsPlanned planned:
                AddJobs(new PlanChunk(planned.ToByteArray()));
                break;
            case JobStarted started:
                var running = byId[started.JobId];
                Move(running, JobState.Running);
                (running.Node, running.Slot, running.Started) = (started.Node, started.Slot, true);
                break;
            case AttemptsReserved reserved:
                attemptsReserved = Math.Max(attemptsReserved, reserved.UpTo);
                break;
            case JobCompleted completed:
                var done = byId[completed.JobId];
                bool newlyScored = done.State is not (JobState.Done or JobState.Stopped) && HasResult(completed.Summary);
                done.Summary = completed.Summary;
                Move(done, StateOf(completed.Summary));
                if (done is { State: JobState.Done, Trace: { } trace }) trace.StopReason = null; // it finished before its stop reached it
                if (newlyScored && done.Kind == JobKind.Student) Score(done, completed.Summary);
                Finished(done);
                break;
            case JobRequeued requeued:
                var again = byId[requeued.JobId];
                if (requeued.Crashed) again.Crashes++;
                if (again.Finished) (again.Summary, again.EnvironmentalRetries) = (null, 0); // a failure retried: its old summary is no longer its result
                else if (requeued.Environmental) again.EnvironmentalRetries++;
                Move(again, JobState.Queued);
                break;
            case SweepCancelled cancelled:
                Cancelled = cancelled;
                foreach (var job in jobs.Where(j => !j.Finished)) Move(job, JobState.Cancelled);
                break;
            case SweepResumed:
                Cancelled = null;
                foreach (var job in jobs.Where(j => j.State == JobState.Cancelled)) Move(job, JobState.Queued);
                break;
            case EpochMeasured measured:
                Apply(measured);
                break;
            case PointStopped stopped:
                Apply(stopped);
                break;
            case TargetReached reached:
                Apply(reached);
                break;
            case PointProposed proposed:
                Apply(proposed);
                break;
            default:
                throw new ArgumentException($"not an event of a sweep: {sweepEvent.Descriptor.FullName}", nameof(sweepEvent));
        }
    }

    void AddJobs(PlanChunk chunk)
    {
        plan.Add(chunk);
        tableOrder = null;
        foreach (var entry in chunk.Entries(parameterNames))
        {
            var job = new Job(chunk, entry, jobs.Count);
            jobs.Add(job);
            byId[job.Id] = job;
            counts[Slot(job)]++;
            Track(job);
            foreach (string dependency in entry.DependsOn)
            {
                if (byId.TryGetValue(dependency, out var on)) job.DependsOn(on);
                else (waitingForPlan.TryGetValue(dependency, out var list) ? list : waitingForPlan[dependency] = []).Add(job);
            }
            if (waitingForPlan.Remove(job.Id, out var dependents))
                foreach (var dependent in dependents) dependent.DependsOn(job);
        }
    }

    /// <summary>
    /// The whole state as one message: the sweep's settings, its plan's chunks (their bytes, shared), every job that
    /// moved and every scored point.
    /// </summary>
    public SweepSnapshot Snapshot()
    {
        if (Sweep is null) throw new InvalidOperationException("nothing to snapshot before the sweep is submitted");
        var moved = new MemoryStream();
        var output = new CodedOutputStream(moved);
        foreach (var job in jobs.Where(j => j.State != JobState.Queued || j.SummaryBytes is not null || j.Crashes > 0 || j.EnvironmentalRetries > 0 || j.Trace is { Measured: true }))
        {
            var saved = new JobSnapshot
            {
                Index = job.Index, State = job.State, Crashes = job.Crashes, EnvironmentalRetries = job.EnvironmentalRetries,
                Summary = job.SummaryBytes is { } summary ? UnsafeByteOperations.UnsafeWrap(summary) : ByteString.Empty,
            };
            Save(job.Trace, saved);
            output.WriteMessage(saved);
        }
        output.Flush();
        var snapshot = new SweepSnapshot
        {
            Sweep = Sweep, Cancelled = Cancelled, AttemptsReserved = attemptsReserved, Plan = { plan.Select(c => c.Bytes) },
            MovedJobs = UnsafeByteOperations.UnsafeWrap(moved.ToArray()), TargetReached = targetReached,
        };
        foreach (var (key, point) in points) snapshot.Points.Add(point.Saved(key));
        SaveProposals(snapshot);
        return snapshot;
    }

    /// <summary>Takes the state a snapshot holds; the events after it are applied next.</summary>
    public void Restore(SweepSnapshot snapshot)
    {
        if (Sweep is not null) throw new InvalidOperationException("a snapshot is restored into an empty state only");
        // Written before the plan was kept as chunks: its jobs are in the sweep, and its points are counted again from them.
        bool before = snapshot.Plan.Count == 0;
        Apply(new SweepSubmitted { Sweep = snapshot.Sweep });
        foreach (var chunk in snapshot.Plan) AddJobs(new PlanChunk(chunk.ToByteArray()));
        Cancelled = snapshot.Cancelled;
        attemptsReserved = snapshot.AttemptsReserved;
        targetReached = snapshot.TargetReached;
        RestoreProposals(snapshot);
        if (!before)
            foreach (var saved in snapshot.Points) Rank(saved.Key, Point.Of(saved));
        foreach (var saved in MovedJobs(snapshot))
        {
            var job = jobs[saved.Index];
            (job.SummaryBytes, job.Crashes, job.EnvironmentalRetries) = (saved.Summary.IsEmpty ? null : saved.Summary.ToByteArray(), saved.Crashes, saved.EnvironmentalRetries);
            job.Started = saved.State is not (JobState.Queued or JobState.Stopped) || saved.Crashes > 0 || saved.EnvironmentalRetries > 0 || saved.EpochsMeasured > 0;
            Move(job, saved.State);
            Restore(job.Trace, saved);
            if (before && job is { State: JobState.Done, Kind: JobKind.Student, Summary: { } summary }) Score(job, summary);
        }
    }

    /// <summary>The jobs a snapshot holds as moved, whichever way it was written.</summary>
    public static IEnumerable<JobSnapshot> MovedJobs(SweepSnapshot snapshot)
    {
        foreach (var saved in snapshot.Jobs) yield return saved;
        var input = snapshot.MovedJobs.CreateCodedInput();
        while (!input.IsAtEnd)
        {
            var saved = new JobSnapshot();
            input.ReadMessage(saved);
            yield return saved;
        }
    }

    /// <summary>
    /// After a replay: jobs that were running when the coordinator stopped are queued again (their nodes' reports went
    /// to the old incarnation), and attempts are numbered above every number the old incarnation could have given out.
    /// </summary>
    public void Recovered()
    {
        foreach (var job in jobs.Where(j => j.State == JobState.Running)) Move(job, JobState.Queued);
        lastAttempt = attemptsReserved;
    }

    /// <summary>The event to persist before the next attempt can be given out (every reserved number is used); null while one is left.</summary>
    public AttemptsReserved? AttemptsNeeded() => lastAttempt < attemptsReserved ? null : new AttemptsReserved { UpTo = lastAttempt + AttemptBlock };

    /// <summary>
    /// A new attempt at a job that <see cref="CanRun"/>, for the scheduler: the job with the next attempt number, which
    /// from now on is its only current one. A job that started before resumes ahead of those that never did.
    /// </summary>
    public EnqueueJob NextAttempt(string jobId)
    {
        if (lastAttempt >= attemptsReserved) throw new InvalidOperationException("every reserved attempt number is used: persist AttemptsNeeded() first");
        var job = byId[jobId];
        job.Attempt = ++lastAttempt;
        var spec = Spec(jobId);
        spec.Attempt = job.Attempt;
        return new EnqueueJob { Job = spec, Resume = job.Started };
    }

    int Slot(Job job) => (int)job.Kind * States + (int)job.State;

    void Move(Job job, JobState state)
    {
        if (job.State == state) return;
        counts[Slot(job)]--;
        if (job.Finished) finished--;
        job.State = state;
        counts[Slot(job)]++;
        if (job.Finished) finished++;
        if (state != JobState.Running) job.Node = ""; // needed only while it runs: each JobStarted brings its own copy of the name
    }

    /// <summary>A student that finished counts towards its point (a done job stays done: points only grow); a job is done only by its JobCompleted.</summary>
    void Score(Job job, TrialSummary summary)
    {
        string key = Sweeps.SweepResults.PointKey(job.Plan.Parameters);
        if (points.TryGetValue(key, out var point)) ranking!.Remove((point.Mean, point.First, key));
        else point = new Point(job.Index);
        point.First = Math.Min(point.First, job.Index);
        point.Add(Sweeps.SweepResults.MetricOf(summary, Sweep!.Metric), summary.TestAccuracy);
        Rank(key, point);
    }

    void Rank(string key, Point point)
    {
        bool maximize = Sweep!.Maximize;
        ranking ??= new(Comparer<(double Mean, int First, string Key)>.Create((a, b) =>
            a.Mean != b.Mean ? a.Mean.CompareTo(b.Mean) : maximize ? b.First.CompareTo(a.First) : a.First.CompareTo(b.First)));
        points[key] = point;
        ranking.Add((point.Mean, point.First, key));
    }

    /// <summary>The best point so far on the sweep's validation metric (never the test set); null before a student finished.</summary>
    public Sweeps.SweepResults.Recipe? Best()
    {
        if (ranking is not { Count: > 0 }) return null;
        var best = points[(Sweep!.Maximize ? ranking.Max : ranking.Min).Key];
        return best.Recipe(best.Parameters ??= jobs[best.First].Plan.Parameters);
    }

    /// <summary>How many jobs are in each state.</summary>
    public JobCounts Counts() => CountsOf();

    JobCounts CountsOf(int kind = -1)
    {
        int Of(JobState state) => kind < 0 ? Count(state) : counts[kind * States + (int)state];
        return new JobCounts
        {
            Queued = Of(JobState.Queued), Running = Of(JobState.Running), Done = Of(JobState.Done), Failed = Of(JobState.Failed), Cancelled = Of(JobState.Cancelled),
            Stopped = Of(JobState.Stopped),
        };
    }

    // ---- Views ----

    /// <summary>The job ready to run, as the scheduler hands it to a slot.</summary>
    public JobSpec Spec(string jobId)
    {
        var job = byId[jobId];
        var plan = job.Plan;
        return new JobSpec
        {
            SweepId = SweepId, JobId = jobId, Kind = job.Kind, WorkJson = WorkOf(plan), Epochs = plan.Epochs,
            OutputDirectory = Path.Combine(Sweep!.OutputRoot, jobId), SoftTargetStore = Sweep.SoftTargetStore, StopReason = job.Trace?.StopReason ?? "",
            Pack = Sweep.Pack,
        };
    }

    /// <summary>A job's whole work: its template with its overrides applied, or the work it was planned with.</summary>
    string WorkOf(PlannedJob plan) => plan.Template == 0 ? plan.WorkJson
        : Sweeps.JsonMergePatch.Apply(templates[plan.Template - 1], System.Text.Json.Nodes.JsonNode.Parse(plan.OverridesJson)) ?? "null";

    public JobStatus StatusOf(string jobId) => StatusOf(byId[jobId]);

    static JobStatus StatusOf(Job job)
    {
        var plan = job.Plan;
        var entry = new JobStatus
        {
            JobId = job.Id, Kind = job.Kind, State = job.State, DependsOn = { plan.DependsOn }, Seed = plan.Seed, Parameters = { plan.Parameters },
            Baseline = plan.Baseline, StopReason = job.Trace?.StopReason ?? "",
        };
        if (job.Summary is { } summary) entry.Summary = summary;
        return entry;
    }

    /// <summary>(node, slot) of a running job, as its last JobStarted said.</summary>
    public (string Node, int Slot) Placement(string jobId) => (byId[jobId].Node, byId[jobId].Slot);

    public SweepAccepted Accepted() => new() { SweepId = SweepId, Jobs = jobs.Count, AlreadyDone = finished };

    /// <summary>
    /// The sweep's counts and best point (O(1)), and its jobs from <paramref name="jobsOffset"/>, at most
    /// <paramref name="jobsLimit"/> of them, in results order (O(page) once the order is made).
    /// </summary>
    public SweepStatus Status(int jobsOffset = 0, int jobsLimit = int.MaxValue)
    {
        var status = new SweepStatus { SweepId = SweepId };
        if (Sweep is null) return status;
        status.TotalJobs = jobs.Count;
        status.Counts = CountsOf();
        foreach (var kind in Enum.GetValues<JobKind>().Where(k => k != JobKind.Unspecified))
            if (Sweeps.SweepResults.KindNames.TryGetValue(kind, out string? name)) status.CountsByKind[name] = CountsOf((int)kind);
        if (Best() is { } best) status.Best = best.ToProto();
        status.Name = Sweep.Name;
        status.OutputRoot = Sweep.OutputRoot;
        status.Metric = Sweep.Metric;
        status.Maximize = Sweep.Maximize;
        status.Complete = Complete;
        status.Cancelled = Cancelled is not null;
        status.CancelReason = Cancelled?.Reason ?? "";
        status.ParameterNames.Add(parameterNames);
        if (jobsLimit > 0 && jobsOffset < jobs.Count)
        {
            tableOrder ??= InTableOrder();
            int end = (int)Math.Min((long)jobsOffset + jobsLimit, jobs.Count);
            for (int i = Math.Max(0, jobsOffset); i < end; i++) status.Jobs.Add(StatusOf(tableOrder[i]));
        }
        return status;
    }

    /// <summary>The jobs in results order: the plan's own order when it is that already (a sorted plan is checked in O(N), not sorted again).</summary>
    Job[] InTableOrder()
    {
        static int Compare(Job a, Job b)
        {
            int byKind = Sweeps.SweepResults.TableRank(a.Kind).CompareTo(Sweeps.SweepResults.TableRank(b.Kind));
            return byKind != 0 ? byKind : StringComparer.Ordinal.Compare(a.Id, b.Id);
        }
        Job[] order = [.. jobs];
        for (int i = 1; i < order.Length; i++)
            if (Compare(order[i - 1], order[i]) > 0)
            {
                Array.Sort(order, Compare);
                break;
            }
        return order;
    }
}
