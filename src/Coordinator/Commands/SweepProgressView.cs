using System.Diagnostics;
using System.Threading.Channels;
using Orchestrator.Coordinator.Results;
using Orchestrator.Protocol.V1;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Orchestrator.Coordinator.Commands;

/// <summary>
/// What <c>local</c> and <c>watch</c> show while a sweep runs: every running trial (pack-mates each on a row) with its
/// parameters, epoch and validation accuracy, the latest finished jobs with their results, job counts, the best
/// validation result so far, elapsed time and an estimate of the rest; as a live view sized to the terminal, as lines
/// otherwise. Kept from the sweep's events alone (a snapshot, then each change with the sweep's counts after it), so
/// following a million-job sweep costs the same as following a small one.
/// </summary>
public sealed class SweepProgressView
{
    /// <summary>A trial that runs: where, what it is, and its last epoch (null before its first).</summary>
    sealed record Running(string Node, int Slot, string What, JobProgress? Progress);

    /// <summary>The most finished jobs kept for the view: more than any terminal shows.</summary>
    const int FinishedKept = 50;

    readonly Dictionary<string, Running> running = [];
    readonly LinkedList<JobStatus> finished = []; // latest first
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
                if (job.State == JobState.Running) running[job.JobId] = new Running(job.Node, job.Slot, What(job.Kind, job.Parameters, job.Seed), null);
                else running.Remove(job.JobId);
                if (job.State is JobState.Done or JobState.Failed or JobState.Stopped)
                {
                    var status = new JobStatus
                    {
                        JobId = job.JobId, Kind = job.Kind, State = job.State, Summary = job.Summary, Parameters = { job.Parameters }, Seed = job.Seed, StopReason = job.StopReason,
                    };
                    finished.AddFirst(status);
                    if (finished.Count > FinishedKept) finished.RemoveLast();
                    return [JobLine.Of(status)];
                }
                break;
            case WatchEvent.EventOneofCase.Sweep:
                var changed = watchEvent.Sweep;
                (sweep.Counts, sweep.TotalJobs) = (changed.Counts, changed.TotalJobs);
                sweep.Cancelled = changed.Change == SweepChange.Cancelled || (sweep.Cancelled && changed.Change != SweepChange.Resumed);
                if (changed.Change is SweepChange.Complete or SweepChange.Cancelled) Ended = sweep.Cancelled ? "cancelled" : "complete";
                break;
            case WatchEvent.EventOneofCase.Metrics:
                // A watcher that came in mid-run hears of a trial first from its epochs; a trial's last epoch can come just
                // after its final state (they travel apart), and must not bring it back.
                var progress = watchEvent.Metrics;
                if (running.TryGetValue(progress.JobId, out var known)) running[progress.JobId] = known with { Progress = progress };
                else if (!finished.Any(j => j.JobId == progress.JobId)) running[progress.JobId] = new Running(progress.Node, progress.Slot, progress.JobId, progress);
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
            await AnsiConsole.Live(new Text("connecting...")).StartAsync(async ctx =>
            {
                await Follow(events, TimeSpan.FromMilliseconds(200), () => ctx.UpdateTarget(Render(AnsiConsole.Profile.Height)), cancellation);
                ctx.UpdateTarget(new Text($"{sweep.Name}: {Summary()}")); // no empty table left on the screen
            });
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
        string best = sweep.Best is null ? "" : $"; best {sweep.Metric} {SweepResults.FormatMetric(sweep.Metric, sweep.Best.MetricMean)}";
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

    /// <summary>
    /// The live view for a terminal of <paramref name="height"/> lines: the running trials, then the latest finished jobs
    /// in the lines left, then the counts on a line of their own (as wide as the terminal, not the table).
    /// </summary>
    public IRenderable Render(int height)
    {
        int rows = Math.Max(4, height - 13); // each table's title, borders and header (5 lines), "... and N more", the footer, the prompt
        var parts = new List<IRenderable>();
        var trials = running.OrderBy(t => t.Value.Node, StringComparer.Ordinal).ThenBy(t => t.Value.Slot).ThenBy(t => t.Key, StringComparer.Ordinal).ToList();
        int shown = Math.Min(trials.Count, finished.Count == 0 ? rows : Math.Max(rows / 2, rows - finished.Count));
        if (trials.Count > 0)
        {
            var packs = trials.GroupBy(t => (t.Value.Node, t.Value.Slot)).ToDictionary(g => g.Key, g => g.Count());
            var table = new Table().Border(TableBorder.Rounded).Title(Markup.Escape($"{sweep.Name}: running"));
            table.AddColumns("node / slot", "job", "what", "epoch", "val accuracy", "samples/s");
            foreach (var (id, trial) in trials.Take(shown))
            {
                int pack = packs[(trial.Node, trial.Slot)];
                var metrics = trial.Progress?.Metrics;
                table.AddRow(Markup.Escape($"{trial.Node} / {trial.Slot}{(pack > 1 ? $" (pack of {pack})" : "")}"), Markup.Escape(id), Markup.Escape(trial.What),
                    metrics is null ? "" : $"{metrics.Epoch}/{trial.Progress!.Epochs}", metrics is null ? "" : $"{metrics.ValidationAccuracy:P2}",
                    metrics is null ? "" : $"{metrics.SamplesPerSecond:N0}");
            }
            if (trials.Count > shown) table.AddRow("", $"... and {trials.Count - shown} more", "", "", "", "");
            parts.Add(table);
        }
        int left = rows - shown;
        if (finished.Count > 0 && left > 0)
        {
            var table = new Table().Border(TableBorder.Rounded).Title("finished, latest first");
            table.AddColumns("job", "what", "result");
            foreach (var job in finished.Take(left))
                table.AddRow(Markup.Escape(job.JobId), Markup.Escape(What(job.Kind, job.Parameters, job.Seed)), Markup.Escape(Result(job)));
            parts.Add(table);
        }
        parts.Add(new Text($"{sweep.Name}: {Summary()}"));
        return new Rows(parts);
    }

    /// <summary>What a job is, in a few words: its kind unless a student, its swept values and its seed.</summary>
    static string What(JobKind kind, IReadOnlyDictionary<string, string> parameters, int seed) =>
        string.Join(" ", (kind == JobKind.Student ? Array.Empty<string>() : [SweepResults.KindNames.GetValueOrDefault(kind, "job")])
            .Concat(parameters.Select(p => $"{p.Key}={p.Value}"))
            .Concat(Protocol.JobKinds.TrainsTrial(kind) ? [$"seed {seed}"] : []));

    static string Result(JobStatus job) => job.State switch
    {
        JobState.Failed => $"failed: {job.Summary?.FailureReason}",
        _ when job.Summary is { HasTestAccuracy: true } s => $"{(job.State == JobState.Stopped ? "stopped; " : "")}val {s.BestValidationAccuracy:P2}, test {s.TestAccuracy:P2}",
        _ => job.State == JobState.Stopped ? $"stopped: {job.StopReason}" : "done",
    };

    static string Format(TimeSpan time) => time.ToString(time.TotalHours >= 1 ? @"h\:mm\:ss" : @"m\:ss");
}
