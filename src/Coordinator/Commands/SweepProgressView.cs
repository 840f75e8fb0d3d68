using System.Collections.Concurrent;
using System.Diagnostics;
using Orchestrator.Coordinator.Cluster;
using Orchestrator.Coordinator.Sweeps;
using Orchestrator.Protocol.V1;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Orchestrator.Coordinator.Commands;

/// <summary>
/// What <c>orchestrator local</c> shows while a sweep runs: job counts, each slot's trial and epoch, the best
/// validation result so far, elapsed time and an estimate of the rest; as a live table on a terminal, as lines otherwise.
/// </summary>
public sealed class SweepProgressView
{
    readonly ConcurrentDictionary<string, JobProgress> slots = new();
    readonly HashSet<string> reported = [];
    readonly Stopwatch clock = Stopwatch.StartNew();
    int finishedAtStart = -1;

    public void OnProgress(JobProgress progress) => slots[$"{progress.Node} slot {progress.Slot}"] = progress;

    public string Summary(SweepStatus status)
    {
        int Count(string state) => status.Jobs.Count(j => j.State == state);
        int finished = Count(JobStates.Done) + Count(JobStates.Failed);
        if (finishedAtStart < 0) finishedAtStart = finished;
        int finishedHere = finished - finishedAtStart, remaining = status.Jobs.Count - finished;
        string eta = finishedHere > 0 && remaining > 0 ? $", about {Format(clock.Elapsed / finishedHere * remaining)} left" : "";
        var best = SweepResults.Best(status);
        string bestText = best is null ? "" : $"; best {status.Metric} {best.MetricMean:F4}";
        string cancelled = status.Cancelled ? $", {Count(JobStates.Cancelled)} cancelled" : "";
        return $"{Count(JobStates.Done)} done, {Count(JobStates.Failed)} failed, {Count(JobStates.Running)} running, " +
               $"{Count(JobStates.Queued)} queued{cancelled} of {status.Jobs.Count}{bestText}; {Format(clock.Elapsed)} elapsed{eta}";
    }

    /// <summary>One line for each job that finished since the last call.</summary>
    public IEnumerable<string> NewlyFinished(SweepStatus status)
    {
        foreach (var job in status.Jobs.Where(j => j.State is JobStates.Done or JobStates.Failed && reported.Add(j.JobId)))
            yield return JobLine.Of(job);
    }

    public IRenderable Table(SweepStatus status)
    {
        var running = status.Jobs.Where(j => j.State == JobStates.Running).Select(j => j.JobId).ToHashSet();
        var table = new Table().Border(TableBorder.Rounded).Title(Markup.Escape(status.Name)).Caption(Markup.Escape(Summary(status)));
        table.AddColumns("slot", "trial", "epoch", "val accuracy", "samples/s");
        foreach (var (slot, progress) in slots.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            bool active = running.Contains(progress.JobId);
            table.AddRow(slot, active ? progress.JobId : "-", active ? $"{progress.Metrics.Epoch}/{progress.Epochs}" : "",
                active ? $"{progress.Metrics.ValidationAccuracy:P2}" : "", active ? $"{progress.Metrics.SamplesPerSecond:N0}" : "");
        }
        return table;
    }

    static string Format(TimeSpan time) => time.ToString(time.TotalHours >= 1 ? @"h\:mm\:ss" : @"m\:ss");
}
