using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.State;

/// <summary>
/// Which of a sweep's runnable jobs wait at the scheduler: at most <see cref="Size"/> at once, the next handed over as
/// slots take these, so the scheduler holds a window of each sweep, not every runnable job of a million-trial sweep.
/// Jobs that ran before (they have a checkpoint) go first. Not persisted: after a restart every runnable job is handed
/// over again. Pure: what to tell the scheduler is returned, not sent.
/// </summary>
public sealed class DispatchWindow(int size = DispatchWindow.DefaultSize)
{
    public const int DefaultSize = 1000;

    /// <summary>Jobs handed to the scheduler and not reported back, and whether a slot took each.</summary>
    readonly Dictionary<string, bool> atScheduler = [];
    /// <summary>
    /// Runnable jobs not handed over yet, in the order they became runnable: those that ran before (<see cref="resuming"/>)
    /// go first. Queues, not a linked list: a million-job sweep holds a million ids here at its start.
    /// </summary>
    readonly Queue<string> ready = new(), resuming = new();
    /// <summary>Attempt numbers are being reserved (<see cref="SweepState.AttemptsNeeded"/>): hand-overs wait for it.</summary>
    bool reserving;

    public int Size { get; } = size;

    /// <summary>Jobs at the scheduler that no slot has taken yet: at most <see cref="Size"/>.</summary>
    public int Waiting { get; private set; }

    /// <summary>What <see cref="TopUp"/> gives: the attempts to hand the scheduler, and a reservation to persist first when the attempt numbers ran out.</summary>
    public sealed record Dispatch(IReadOnlyList<EnqueueJob> Attempts, AttemptsReserved? Reserve);

    /// <summary>Queues jobs that became runnable (those that started before go ahead).</summary>
    public void Add(IEnumerable<string> jobIds, SweepState state)
    {
        foreach (string id in jobIds) (state.Started(id) ? resuming : ready).Enqueue(id);
    }

    Queue<string>? NextReady() => resuming.Count > 0 ? resuming : ready.Count > 0 ? ready : null;

    /// <summary>
    /// New attempts at ready jobs while fewer than <see cref="Size"/> wait at the scheduler; when the reserved attempt
    /// numbers run out, the reservation to persist (then <see cref="Reserved"/> and top up again).
    /// </summary>
    public Dispatch TopUp(SweepState state)
    {
        var attempts = new List<EnqueueJob>();
        AttemptsReserved? reservation = null;
        while (Waiting < Size && !reserving && NextReady() is { } next)
        {
            string id = next.Peek();
            bool runnable = state.CanRun(id) && !atScheduler.ContainsKey(id);
            if (runnable && (reservation = state.AttemptsNeeded()) is not null) break;
            next.Dequeue();
            if (!runnable) continue;
            atScheduler[id] = false;
            Waiting++;
            attempts.Add(state.NextAttempt(id));
        }
        if (reservation is not null) reserving = true;
        return new Dispatch(attempts, reservation);
    }

    /// <summary>The reservation <see cref="TopUp"/> asked for is stored (and applied).</summary>
    public void Reserved() => reserving = false;

    /// <summary>A slot took the job: one place more in the window. False when it was not waiting here.</summary>
    public bool Taken(string jobId)
    {
        if (!atScheduler.TryGetValue(jobId, out bool taken) || taken) return false;
        atScheduler[jobId] = true;
        Waiting--;
        return true;
    }

    /// <summary>The job's attempt ended (finished, or lost with its node): the scheduler holds it no more. False when it was not there.</summary>
    public bool Ended(string jobId)
    {
        if (!atScheduler.Remove(jobId, out bool taken)) return false;
        if (!taken) Waiting--;
        return true;
    }

    /// <summary>
    /// The sweep stopped the job: whether the scheduler holds it (and must drop or stop it). One no slot took leaves the
    /// window, and is handed over again when it can still run (it ran before: a new attempt only evaluates its best checkpoint).
    /// </summary>
    public bool Stopped(string jobId, SweepState state)
    {
        if (!atScheduler.TryGetValue(jobId, out bool taken)) return false;
        if (taken) return true;
        atScheduler.Remove(jobId);
        Waiting--;
        if (state.CanRun(jobId)) Add([jobId], state);
        return true;
    }

    /// <summary>The sweep was cancelled: nothing waits any more.</summary>
    public void Clear()
    {
        atScheduler.Clear();
        ready.Clear();
        resuming.Clear();
        Waiting = 0;
    }
}
