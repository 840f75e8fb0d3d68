using System.Text.Json.Nodes;
using Orchestrator.Coordinator.Planning;
using Orchestrator.Coordinator.Results;
using Orchestrator.Protocol.V1;
using PlannedJob = Orchestrator.Protocol.V1.PlannedJob;

namespace Orchestrator.Coordinator.State;

/// <summary>
/// A sweep's jobs and their dependencies, as the plan's chunks add them: each job's state, counters by kind and state
/// kept as jobs move (no scan of the jobs per event), failure propagation, the jobs a retry runs again, and attempt
/// numbering. Pure: no I/O, no actors.
/// </summary>
public sealed class JobGraph
{
    static readonly int Kinds = Enum.GetValues<JobKind>().Length, States = Enum.GetValues<JobState>().Length;

    /// <summary>
    /// Attempt numbers reserved by one <see cref="AttemptsReserved"/> event: one event per this many dispatches. After a
    /// restart numbering goes on above the last reservation, so no attempt number is ever given out twice.
    /// </summary>
    public const int AttemptBlock = 10_000;

    readonly List<SweepJob> jobs = [];
    /// <summary>The plan as persisted, chunk by chunk: the jobs' <see cref="PlannedJob"/>s are read from it.</summary>
    readonly List<PlanChunk> plan = [];
    readonly Dictionary<string, SweepJob> byId = [];
    /// <summary>Jobs whose dependency is in a later plan chunk, by that dependency's id.</summary>
    readonly Dictionary<string, List<SweepJob>> waitingForPlan = [];
    readonly List<JsonNode?> templates = [];
    readonly int[] counts = new int[Kinds * States];
    /// <summary>The jobs in results order (<see cref="SweepResults.InTableOrder"/>): sorted once, when a page is first asked for after the plan grew, so that a page costs O(page).</summary>
    SweepJob[]? tableOrder;
    long attemptsReserved, lastAttempt;

    public IReadOnlyList<SweepJob> Jobs => jobs;
    public IReadOnlyList<PlanChunk> Plan => plan;
    public int Count => jobs.Count;
    public int FinishedCount { get; private set; }
    public bool AllFinished => FinishedCount == jobs.Count;
    /// <summary>Every parameter name of the planned jobs: the results' columns.</summary>
    public SortedSet<string> ParameterNames { get; } = new(StringComparer.Ordinal);
    public long AttemptsReserved => attemptsReserved;

    public SweepJob this[string id] => byId[id];
    public SweepJob this[int index] => jobs[index];
    public bool Contains(string id) => byId.ContainsKey(id);
    public bool TryGet(string id, out SweepJob job) => byId.TryGetValue(id, out job!);

    public void AddTemplates(IEnumerable<string> json) => templates.AddRange(json.Select(t => JsonNode.Parse(t)));

    /// <summary>Adds a chunk's jobs, linking each to its dependencies (those planned later are linked when they are); <paramref name="added"/> sees each.</summary>
    public void Add(PlanChunk chunk, Action<SweepJob> added)
    {
        plan.Add(chunk);
        tableOrder = null;
        foreach (var entry in chunk.Entries(ParameterNames))
        {
            var job = new SweepJob(chunk, entry, jobs.Count);
            jobs.Add(job);
            byId[job.Id] = job;
            counts[Slot(job)]++;
            added(job);
            foreach (string dependency in entry.DependsOn)
            {
                if (byId.TryGetValue(dependency, out var on)) job.DependsOn(on);
                else (waitingForPlan.TryGetValue(dependency, out var list) ? list : waitingForPlan[dependency] = []).Add(job);
            }
            if (waitingForPlan.Remove(job.Id, out var dependents))
                foreach (var dependent in dependents) dependent.DependsOn(job);
        }
    }

    /// <summary>How many jobs of <paramref name="kind"/> are in <paramref name="state"/>.</summary>
    public int CountOf(JobKind kind, JobState state) => counts[(int)kind * States + (int)state];

    /// <summary>How many jobs of any kind are in <paramref name="state"/>.</summary>
    public int CountOf(JobState state)
    {
        int total = 0;
        for (int kind = 0; kind < Kinds; kind++) total += counts[kind * States + (int)state];
        return total;
    }

    /// <summary>How many jobs (of <paramref name="kind"/>, or of any) are in each state.</summary>
    public JobCounts Counts(JobKind? kind = null)
    {
        int Of(JobState state) => kind is { } k ? CountOf(k, state) : CountOf(state);
        return new JobCounts
        {
            Queued = Of(JobState.Queued), Running = Of(JobState.Running), Done = Of(JobState.Done), Failed = Of(JobState.Failed), Cancelled = Of(JobState.Cancelled),
            Stopped = Of(JobState.Stopped),
        };
    }

    int Slot(SweepJob job) => (int)job.Kind * States + (int)job.State;

    public void Move(SweepJob job, JobState state)
    {
        if (job.State == state) return;
        counts[Slot(job)]--;
        if (job.Finished) FinishedCount--;
        job.State = state;
        counts[Slot(job)]++;
        if (job.Finished) FinishedCount++;
        if (state != JobState.Running) job.Node = ""; // needed only while it runs: each JobStarted brings its own copy of the name
    }

    /// <summary>
    /// Whether <paramref name="attempt"/> is the job's current attempt and the job unfinished: only its reports count.
    /// One superseded (its node was lost, or the coordinator restarted since) changes nothing.
    /// </summary>
    public bool IsCurrent(string jobId, long attempt) => byId.TryGetValue(jobId, out var job) && !job.Finished && job.Attempt == attempt;

    /// <summary>The unfinished jobs whose every dependency is done.</summary>
    public IEnumerable<SweepJob> Runnable() => jobs.Where(j => !j.Finished && j.DependenciesDone);

    /// <summary>
    /// The failed jobs to run again: those the machine failed (<see cref="TrialSummary.Environmental"/>), or every
    /// failed one with <paramref name="allFailed"/>, and every job that failed because one of them did.
    /// </summary>
    public List<SweepJob> Retried(bool allFailed)
    {
        var retried = new HashSet<SweepJob>(jobs.Where(j => j.State == JobState.Failed && (allFailed || j.Summary is { Environmental: true })));
        var waiting = new Queue<SweepJob>(retried);
        while (waiting.TryDequeue(out var job))
            foreach (var dependent in job.Dependents.Where(d => d.State == JobState.Failed && retried.Add(d))) waiting.Enqueue(dependent);
        return jobs.Where(retried.Contains).ToList();
    }

    /// <summary>Every job that waits for <paramref name="failed"/>, directly or not, failed in turn with the chain of reasons.</summary>
    public static IEnumerable<JobCompleted> FailuresOf(SweepJob failed, string reason)
    {
        var seen = new HashSet<SweepJob>();
        var pending = new Queue<(SweepJob Job, string Reason)>(failed.Dependents.Select(d => (d, $"{failed.Id} failed: {reason}")));
        while (pending.TryDequeue(out var next))
        {
            if (next.Job.Finished || !seen.Add(next.Job)) continue;
            yield return new JobCompleted { JobId = next.Job.Id, Summary = Failure(next.Job, next.Reason) };
            foreach (var dependent in next.Job.Dependents) pending.Enqueue((dependent, $"{next.Job.Id} failed: {next.Reason}"));
        }
    }

    public static TrialSummary Failure(SweepJob job, string reason) => new() { Name = job.Id, Status = TrialStatus.Failed, FailureReason = reason };

    // ---- Attempts ----

    public void Reserved(AttemptsReserved reserved) => attemptsReserved = Math.Max(attemptsReserved, reserved.UpTo);

    public void RestoreAttempts(long reserved) => attemptsReserved = reserved;

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

    /// <summary>The job's next attempt number, from now on its only current one.</summary>
    public long NextAttempt(SweepJob job)
    {
        if (lastAttempt >= attemptsReserved) throw new InvalidOperationException("every reserved attempt number is used: persist AttemptsNeeded() first");
        return job.Attempt = ++lastAttempt;
    }

    // ---- Views ----

    /// <summary>A job's whole work: its template with its overrides applied, or the work it was planned with.</summary>
    public string WorkOf(PlannedJob job) => job.Template == 0 ? job.WorkJson
        : JsonMergePatch.Apply(templates[job.Template - 1], JsonNode.Parse(job.OverridesJson)) ?? "null";

    /// <summary>At most <paramref name="limit"/> jobs from <paramref name="offset"/>, in results order (O(page) once the order is made).</summary>
    public IEnumerable<SweepJob> Page(int offset, int limit)
    {
        if (limit <= 0 || offset >= jobs.Count) yield break;
        tableOrder ??= InTableOrder();
        int end = (int)Math.Min((long)offset + limit, jobs.Count);
        for (int i = Math.Max(0, offset); i < end; i++) yield return tableOrder[i];
    }

    /// <summary>The jobs in results order: the plan's own order when it is that already (a sorted plan is checked in O(N), not sorted again).</summary>
    SweepJob[] InTableOrder()
    {
        static int Compare(SweepJob a, SweepJob b)
        {
            int byKind = SweepResults.TableRank(a.Kind).CompareTo(SweepResults.TableRank(b.Kind));
            return byKind != 0 ? byKind : StringComparer.Ordinal.Compare(a.Id, b.Id);
        }
        SweepJob[] order = [.. jobs];
        for (int i = 1; i < order.Length; i++)
            if (Compare(order[i - 1], order[i]) > 0)
            {
                Array.Sort(order, Compare);
                break;
            }
        return order;
    }
}
