using Akka.Actor;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Orchestrator.Protocol;
using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.Cluster;

/// <summary>
/// Matches runnable jobs with free GPU slots (work-pulling: a node offers a slot only when it is free, so a slot
/// never runs two jobs). Jobs are taken round-robin across sweeps, so one large sweep cannot starve another.
/// When a node's agent dies, its running jobs are reported lost to their sweeps, which hand them over again as new
/// attempts (ahead of jobs that never started; they resume from their last checkpoint). Each job is held as one attempt
/// (<see cref="JobSpec.Attempt"/>): a report of another attempt changes nothing here. A cancelled sweep's queued jobs
/// are dropped and its running ones stopped by their nodes; so is a job its sweep stopped (<see cref="StopJob"/>). When
/// slots are free and nothing is runnable, each bayes sweep that can (<see cref="SweepCanPropose"/>) is asked for points.
/// A slot that offers a capacity above one gets a pack: the next job and queued jobs of its sweep that may train with it
/// (the same <see cref="PackGroup"/>, planned with the trial), up to the sweep's and the slot's limits, and no more than an equal share of them among
/// the free slots, so that packing never leaves a slot idle that could have trained some of them.
/// </summary>
public sealed class Scheduler : ReceiveActor, IWithTimers
{
    sealed record Slot(IActorRef Agent, SlotFree Offer);
    sealed class PublishLoad { public static readonly PublishLoad Instance = new(); }
    sealed class DispatchNow { public static readonly DispatchNow Instance = new(); }

    /// <summary>Queued jobs and slots per node, published once a second for the metrics endpoint.</summary>
    public sealed record Load(int Queued, IReadOnlyDictionary<string, int> FreeSlots, IReadOnlyDictionary<string, int> BusySlots);

    /// <summary>Published for each job handed to a slot: how long it waited in the queue.</summary>
    public sealed record Dispatched(TimeSpan Waited);

    public ITimerScheduler Timers { get; set; } = null!;
    readonly Dictionary<string, DateTime> enqueuedAt = [];

    readonly IActorRef sweeps;
    readonly Dictionary<string, LinkedList<JobSpec>> queues = [];
    readonly List<string> sweepOrder = [];
    int nextSweep;
    readonly HashSet<string> known = [];
    readonly LinkedList<Slot> freeSlots = new();
    /// <summary>Bayes sweeps that can propose points, and those asked and not answered yet.</summary>
    readonly HashSet<string> proposing = [], asked = [];
    readonly Dictionary<string, (Slot Slot, JobSpec Job)> running = [];
    /// <summary>The nodes' agents that offered a slot, with the node's name: whose joining and leaving the log tells.</summary>
    readonly Dictionary<IActorRef, string> nodes = [];
    readonly ILogger log;
    bool dispatchPending;

    /// <summary>How far down its sweep's queue a pack looks for mates: bounded, so a dispatch costs the same with a million queued.</summary>
    public const int PackScan = 4096;

    /// <param name="logger">GPU nodes as they join and leave; null: nowhere.</param>
    public Scheduler(IActorRef sweeps, ILogger? logger = null)
    {
        this.sweeps = sweeps;
        log = logger ?? NullLogger.Instance;
        Receive<EnqueueJob>(message =>
        {
            asked.Remove(message.Job.SweepId);
            if (!known.Add(Key(message.Job))) return;
            enqueuedAt[Key(message.Job)] = DateTime.UtcNow;
            if (message.Resume) Queue(message.Job).AddFirst(message.Job);
            else Queue(message.Job).AddLast(message.Job);
            DispatchSoon();
        });
        Receive<SlotFree>(offer =>
        {
            Context.Watch(Sender);
            if (nodes.TryAdd(Sender, offer.Node))
                log.LogInformation("GPU node {Node} joined: {Slots} slot(s) on {Device}{Packs}", offer.Node, offer.NodeSlots, offer.Device,
                    offer.Capacity > 1 ? $", packs of up to {offer.Capacity} trials" : "");
            freeSlots.AddLast(new Slot(Sender, offer));
            DispatchSoon();
        });
        Receive<DispatchNow>(_ =>
        {
            dispatchPending = false;
            Dispatch();
        });
        Receive<JobFinished>(finished =>
        {
            string key = Key(finished.SweepId, finished.JobId, finished.Attempt);
            running.Remove(key);
            known.Remove(key);
            sweeps.Tell(finished);
        });
        Receive<SweepCanPropose>(can =>
        {
            proposing.Add(can.SweepId);
            DispatchSoon();
        });
        Receive<NoProposal>(none =>
        {
            asked.Remove(none.SweepId);
            if (none.Done) proposing.Remove(none.SweepId);
        });
        Receive<CancelSweepJobs>(cancel =>
        {
            proposing.Remove(cancel.SweepId);
            asked.Remove(cancel.SweepId);
            if (queues.TryGetValue(cancel.SweepId, out var queue))
            {
                foreach (var job in queue) Forget(job);
                queue.Clear();
            }
            // Running jobs stay in `running` until their node reports them finished (cancelled), as any job does.
            foreach (var (slot, job) in running.Values.Where(r => r.Job.SweepId == cancel.SweepId))
                slot.Agent.Tell(new CancelJob { SweepId = job.SweepId, JobId = job.JobId });
        });
        Receive<StopJob>(stop =>
        {
            if (queues.TryGetValue(stop.SweepId, out var queue) && queue.FirstOrDefault(j => j.JobId == stop.JobId) is { } queued)
            {
                queue.Remove(queued);
                Forget(queued);
            }
            foreach (var (slot, _) in running.Values.Where(r => r.Job.SweepId == stop.SweepId && r.Job.JobId == stop.JobId))
                slot.Agent.Tell(stop);
        });
        Receive<JobProgress>(progress =>
        {
            Context.System.EventStream.Publish(progress);
            sweeps.Tell(progress); // early termination decides on epochs
        });
        Receive<PublishLoad>(_ => Context.System.EventStream.Publish(new Load(queues.Values.Sum(q => q.Count),
            freeSlots.GroupBy(s => s.Offer.Node).ToDictionary(g => g.Key, g => g.Count()),
            running.Values.GroupBy(r => r.Slot.Offer.Node).ToDictionary(g => g.Key, g => g.Count()))));
        Receive<Terminated>(terminated => NodeLost(terminated.ActorRef));
    }

    public static Props Props(IActorRef sweeps, ILogger? log = null) => Akka.Actor.Props.Create(() => new Scheduler(sweeps, log));

    protected override void PreStart() => Timers.StartPeriodicTimer("load", PublishLoad.Instance, TimeSpan.FromSeconds(1));

    static string Key(JobSpec job) => Key(job.SweepId, job.JobId, job.Attempt);

    /// <summary>A queued job dropped (its sweep cancelled, or it stopped): no longer known nor waiting.</summary>
    void Forget(JobSpec job)
    {
        known.Remove(Key(job));
        enqueuedAt.Remove(Key(job));
    }

    static string Key(string sweepId, string jobId, long attempt) => $"{sweepId}/{jobId}#{attempt}";

    LinkedList<JobSpec> Queue(string sweepId)
    {
        if (!queues.TryGetValue(sweepId, out var queue))
        {
            queues[sweepId] = queue = new LinkedList<JobSpec>();
            sweepOrder.Add(sweepId);
        }
        return queue;
    }

    LinkedList<JobSpec> Queue(JobSpec job) => Queue(job.SweepId);

    /// <summary>How long the scheduler gathers enqueued jobs and freed slots before it hands them out: a sweep hands over the
    /// jobs a finished job released as a burst of messages (through the singleton's proxy, one hop each), and packs form
    /// from the whole burst, not from its first message. Only while a free slot offers a capacity above one.</summary>
    public static readonly TimeSpan GatherFor = TimeSpan.FromMilliseconds(50);

    void DispatchSoon()
    {
        // Slots that take one job at a time have nothing to gather for.
        if (freeSlots.All(slot => slot.Offer.Capacity <= 1))
        {
            Dispatch();
            return;
        }
        if (dispatchPending) return;
        dispatchPending = true;
        Timers.StartSingleTimer("dispatch", DispatchNow.Instance, GatherFor);
    }

    void Dispatch()
    {
        while (freeSlots.First is { } first && NextJob() is { } job)
        {
            freeSlots.RemoveFirst();
            var slot = first.Value;
            var pack = PackMates(job, slot.Offer);
            foreach (var member in pack.Prepend(job))
            {
                running[Key(member)] = (slot, member);
                if (enqueuedAt.Remove(Key(member), out var since)) Context.System.EventStream.Publish(new Dispatched(DateTime.UtcNow - since));
                sweeps.Tell(new JobAssigned { SweepId = member.SweepId, JobId = member.JobId, Node = slot.Offer.Node, Slot = slot.Offer.Slot, Attempt = member.Attempt });
            }
            slot.Agent.Tell(new RunJob { Job = job, Slot = slot.Offer.Slot, Pack = { pack } });
        }
        // Free slots and nothing runnable: a bayes sweep proposes points for them (work-pulling, as slots pull jobs).
        if (freeSlots.Count > 0)
            foreach (string sweep in proposing.Where(asked.Add).ToList())
                sweeps.Tell(new ProposeJobs { SweepId = sweep, FreeSlots = freeSlots.Count });
    }

    /// <summary>
    /// The queued jobs that train with <paramref name="head"/> in the offered slot, taken off their queue: those of its
    /// sweep with its pack key, in queue order, up to the smallest of the sweep's limit for the slot's device, the slot's
    /// capacity, and an equal share of the compatible jobs among this and the other free slots.
    /// </summary>
    List<JobSpec> PackMates(JobSpec head, SlotFree offer)
    {
        if (offer.Capacity <= 1 || head.PackGroup is not { } group) return [];
        bool gpu = !offer.Device.StartsWith("cpu", StringComparison.Ordinal);
        int limit = Math.Min(offer.Capacity, gpu ? group.GpuLimit : group.CpuLimit);
        if (limit <= 1) return [];
        var compatible = new List<LinkedListNode<JobSpec>>();
        // Enough mates for a full pack in every free slot: more would not change this slot's share.
        int enough = limit * (freeSlots.Count + 1) - 1, scanned = 0;
        for (var node = queues[head.SweepId].First; node is not null && scanned < PackScan && compatible.Count < enough; node = node.Next, scanned++)
            if (group.Equals(node.Value.PackGroup)) compatible.Add(node);
        int share = (compatible.Count + 1 + freeSlots.Count) / (freeSlots.Count + 1); // ceil((mates + head) / free slots)
        var mates = compatible.Take(Math.Min(limit, share) - 1).ToList();
        foreach (var node in mates) node.List!.Remove(node);
        return mates.Select(n => n.Value).ToList();
    }

    /// <summary>The head of the next non-empty sweep queue, round-robin.</summary>
    JobSpec? NextJob()
    {
        for (int tried = 0; tried < sweepOrder.Count; tried++)
        {
            var queue = queues[sweepOrder[nextSweep]];
            nextSweep = (nextSweep + 1) % sweepOrder.Count;
            if (queue.First is { } head)
            {
                queue.RemoveFirst();
                return head.Value;
            }
        }
        return null;
    }

    void NodeLost(IActorRef agent)
    {
        if (nodes.Remove(agent, out string? name))
            log.LogInformation("GPU node {Node} left: {Running} running trial(s) go back to their sweeps, to resume from their last checkpoint", name,
                running.Values.Count(r => r.Slot.Agent.Equals(agent)));
        for (var slot = freeSlots.First; slot is not null;)
        {
            var next = slot.Next;
            if (slot.Value.Agent.Equals(agent)) freeSlots.Remove(slot);
            slot = next;
        }
        // Not queued again here: the node may yet run its attempt (stopped, partitioned), so the sweep gives the job a new one.
        foreach (var (key, (slot, job)) in running.Where(r => r.Value.Slot.Agent.Equals(agent)).ToList())
        {
            running.Remove(key);
            known.Remove(key);
            sweeps.Tell(new JobLost { SweepId = job.SweepId, JobId = job.JobId, Reason = $"node {slot.Offer.Node} left", Attempt = job.Attempt });
        }
    }
}
