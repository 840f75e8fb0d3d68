using System.Diagnostics;
using System.Threading.Channels;
using Orchestrator.Coordinator.Results;
using Orchestrator.Protocol.V1;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Orchestrator.Coordinator.Commands;

/// <summary>
/// What <c>local</c> and <c>watch</c> show while a sweep runs: job counts, each slot's trial and epoch, the best
/// validation result so far, elapsed time and an estimate of the rest; as a live table on a terminal, as lines
/// otherwise. Kept from the sweep's events alone (a snapshot, then each change with the sweep's counts after it), so
/// following a million-job sweep costs the same as following a small one.
/// </summary>
public sealed class SweepProgressView
{
    readonly Dictionary<string, JobProgress> slots = [];
    readonly Stopwatch clock = Stopwatch.StartNew();
    SweepStatus sweep = new();
    int finishedAtStart = -1;

    /// <summary>How the sweep ended ("complete" or "cancelled"); null while it runs.</summary>
    public string? Ended { get; private set; }

    /// <summary>Takes in one event of the sweep; returns the lines it is worth in line mode (a finished job, a watcher that fell behind).</summary>
    public IReadOnlyList<string> Apply(WatchEvent watchEvent)
    {
        switch (watchEvent.EventCase)
        {
            case WatchEvent.EventOneofCase.Snapshot:
                sweep = watchEvent.Snapshot.Clone();
                if (sweep.Complete) Ended = sweep.Cancelled ? "cancelled" : "complete";
                break;
            case WatchEvent.EventOneofCase.Job:
                var job = watchEvent.Job;
                sweep.Counts = job.SweepCounts;
                if (job.SweepBest is { } best) sweep.Best = best;
                if (job.State != JobState.Running)
                    foreach (string slot in slots.Where(s => s.Value.JobId == job.JobId).Select(s => s.Key).ToList()) slots.Remove(slot);
                if (job.State is JobState.Done or JobState.Failed or JobState.Stopped)
                    return [JobLine.Of(new JobStatus
                    {
                        JobId = job.JobId, Kind = job.Kind, State = job.State, Summary = job.Summary, Parameters = { job.Parameters }, Seed = job.Seed, StopReason = job.StopReason,
                    })];
                break;
            case WatchEvent.EventOneofCase.Sweep:
                var changed = watchEvent.Sweep;
                (sweep.Counts, sweep.TotalJobs) = (changed.Counts, changed.TotalJobs);
                sweep.Cancelled = changed.Change == SweepChange.Cancelled || (sweep.Cancelled && changed.Change != SweepChange.Resumed);
                if (changed.Change is SweepChange.Complete or SweepChange.Cancelled) Ended = sweep.Cancelled ? "cancelled" : "complete";
                break;
            case WatchEvent.EventOneofCase.Metrics:
                slots[$"{watchEvent.Metrics.Node} slot {watchEvent.Metrics.Slot}"] = watchEvent.Metrics;
                break;
            case WatchEvent.EventOneofCase.FellBehind:
                return [$"{sweep.SweepId}: {watchEvent.FellBehind.Reason}; continuing from the current state"];
        }
        return [];
    }

    /// <summary>
    /// Shows the sweep's events as they come until it ends (live: the table, redrawn at most every 200 ms and at
    /// least every second for the clock; lines: each finished job, and the counts when they changed, at most once a
    /// second); returns how it ended.
    /// </summary>
    public async Task<string> ShowAsync(ChannelReader<WatchEvent> events, bool live, CancellationToken cancellation)
    {
        if (live)
        {
            await AnsiConsole.Live(new Text("connecting...")).StartAsync(ctx => Follow(events, TimeSpan.FromMilliseconds(200), () => ctx.UpdateTarget(Table()), cancellation));
            return Ended!;
        }
        string shown = "";
        await Follow(events, TimeSpan.FromSeconds(1), () =>
        {
            string summary = Summary(), counts = summary[..summary.LastIndexOf(';')]; // without the clock, which changes every second
            if (counts != shown) Console.WriteLine($"{sweep.Name}: {summary}");
            shown = counts;
        }, cancellation, Console.WriteLine);
        return Ended!;
    }

    /// <summary>Applies events until the sweep ends, calling <paramref name="draw"/> after changes (at most once per <paramref name="every"/>) and once a second.</summary>
    async Task Follow(ChannelReader<WatchEvent> events, TimeSpan every, Action draw, CancellationToken cancellation, Action<string>? print = null)
    {
        var drawn = Stopwatch.StartNew();
        Task<bool>? next = null;
        while (Ended is null)
        {
            next ??= events.WaitToReadAsync(cancellation).AsTask();
            if (await Task.WhenAny(next, Task.Delay(TimeSpan.FromSeconds(1), cancellation)) == next)
            {
                if (!await next) throw new InvalidOperationException("the sweep's events ended before the sweep did");
                next = null;
                while (Ended is null && events.TryRead(out var watchEvent))
                    foreach (string line in Apply(watchEvent)) print?.Invoke(line);
                if (drawn.Elapsed < every && Ended is null) continue;
            }
            cancellation.ThrowIfCancellationRequested();
            draw();
            drawn.Restart();
        }
        draw();
    }

    public string Summary()
    {
        var counts = sweep.Counts ?? new JobCounts();
        int finished = counts.Done + counts.Failed + counts.Stopped;
        if (finishedAtStart < 0) finishedAtStart = finished;
        int total = Total(counts, sweep.TotalJobs), finishedHere = finished - finishedAtStart, remaining = total - finished - counts.Cancelled;
        string eta = finishedHere > 0 && remaining > 0 ? $", about {Format(clock.Elapsed / finishedHere * remaining)} left" : "";
        string best = sweep.Best is null ? "" : $"; best {sweep.Metric} {sweep.Best.MetricMean:F4}";
        return $"{Counts(counts, total)}{best}; {Format(clock.Elapsed)} elapsed{eta}";
    }

    /// <summary>A sweep's counts in words: "5 done, 0 failed, 2 running, 1 queued of 8" (", 3 stopped", ", 1 cancelled" when there are).</summary>
    public static string Counts(JobCounts counts, int total) =>
        $"{counts.Done} done, {counts.Failed} failed, {counts.Running} running, {counts.Queued} queued{(counts.Stopped > 0 ? $", {counts.Stopped} stopped" : "")}" +
        $"{(counts.Cancelled > 0 ? $", {counts.Cancelled} cancelled" : "")} of {Total(counts, total)}";

    /// <summary>
    /// At least the jobs counted: a bayes sweep adds jobs as it proposes points, and its job events carry the new counts
    /// before any sweep event carries the new total.
    /// </summary>
    static int Total(JobCounts counts, int total) =>
        Math.Max(total, counts.Done + counts.Failed + counts.Running + counts.Queued + counts.Stopped + counts.Cancelled);

    public IRenderable Table()
    {
        var table = new Table().Border(TableBorder.Rounded).Title(Markup.Escape(sweep.Name)).Caption(Markup.Escape(Summary()));
        table.AddColumns("slot", "trial", "epoch", "val accuracy", "samples/s");
        foreach (var (slot, progress) in slots.OrderBy(s => s.Key, StringComparer.Ordinal))
            table.AddRow(slot, progress.JobId, $"{progress.Metrics.Epoch}/{progress.Epochs}", $"{progress.Metrics.ValidationAccuracy:P2}", $"{progress.Metrics.SamplesPerSecond:N0}");
        return table;
    }

    static string Format(TimeSpan time) => time.ToString(time.TotalHours >= 1 ? @"h\:mm\:ss" : @"m\:ss");
}
