using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.Api;

/// <summary>
/// The coordinator's recent history for Watch streams: a fixed-size ring of events with consecutive cursors.
/// Recording an event never waits for a watcher; each watcher is only a cursor into the ring, so a slow or dead
/// watcher costs no memory and slows nothing: if it falls more than the ring's size behind, it is told to resume
/// from the newest event (after a fresh snapshot) instead of being buffered for.
/// </summary>
public sealed class WatchHub(int capacity = WatchHub.DefaultCapacity)
{
    /// <summary>
    /// Enough for hours of a real sweep's events (a trial reports once an epoch), and small enough that the ring's
    /// objects keep garbage collection short: at a benchmark's 50,000 points/s, 100,000 events held made gen-2 pauses
    /// of 300 ms (docs/benchmarks.md). `serve --watch-history` sets it.
    /// </summary>
    public const int DefaultCapacity = 20_000;

    readonly WatchEvent[] ring = new WatchEvent[capacity];
    readonly Lock gate = new();
    long head;
    TaskCompletionSource appended = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>How many of the newest events are held.</summary>
    public int Capacity => capacity;

    /// <summary>The cursor of the newest event (0 before the first).</summary>
    public long Head
    {
        get { lock (gate) return head; }
    }

    /// <summary>Gives the event the next cursor and the current time, keeps it, and wakes the watchers.</summary>
    public long Append(WatchEvent watchEvent)
    {
        AppendAll([watchEvent]);
        return watchEvent.Cursor;
    }

    /// <summary>Appends a batch under one lock and wakes the watchers once (what a node's metric batch needs).</summary>
    public void AppendAll(IEnumerable<WatchEvent> watchEvents)
    {
        TaskCompletionSource signal;
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        lock (gate)
        {
            foreach (var watchEvent in watchEvents)
            {
                watchEvent.Cursor = ++head;
                watchEvent.UnixMs = now;
                ring[head % capacity] = watchEvent;
            }
            signal = appended;
            appended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        signal.SetResult();
    }

    /// <summary>
    /// Up to <paramref name="max"/> events after <paramref name="after"/>; or, when those are no longer held (or the
    /// cursor is from an earlier run of the coordinator), no events and the cursor to resume from.
    /// </summary>
    public (IReadOnlyList<WatchEvent> Events, long? ResumeFrom) Read(long after, int max)
    {
        lock (gate)
        {
            long oldest = Math.Max(1, head - capacity + 1);
            if (after < oldest - 1 || after > head) return ([], head);
            var events = new List<WatchEvent>();
            for (long cursor = after + 1; cursor <= head && events.Count < max; cursor++) events.Add(ring[cursor % capacity]);
            return (events, null);
        }
    }

    /// <summary>Completes when there is an event after <paramref name="cursor"/>.</summary>
    public Task WaitAfter(long cursor, CancellationToken cancellation)
    {
        Task next;
        lock (gate)
        {
            if (head > cursor) return Task.CompletedTask;
            next = appended.Task;
        }
        return next.WaitAsync(cancellation);
    }
}
