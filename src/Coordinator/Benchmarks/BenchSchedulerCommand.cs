using System.CommandLine;
using System.Diagnostics;
using Akka.Actor;
using Orchestrator.Coordinator.Cluster;
using Orchestrator.Coordinator.Commands;
using Orchestrator.Coordinator.Results;
using Orchestrator.GpuNode;
using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.Benchmarks;

/// <summary>
/// <c>orchestrator bench-scheduler</c>: scheduling overhead. SYNTHETIC jobs that only hold their slot for a fixed time
/// (no training) go through the real path: sweep entity (journalled in SQLite), scheduler, node agents, slot threads.
/// Reports wall time against the ideal (jobs x hold / slots) and, with --hold 0, the dispatch rate.
/// </summary>
public static class BenchSchedulerCommand
{
    public static Command Create()
    {
        var trials = new Option<int>("--trials") { Description = "Number of synthetic jobs.", DefaultValueFactory = _ => 2000 };
        var hold = new Option<double>("--hold") { Description = "Seconds each job holds its slot (0: measure dispatch rate).", DefaultValueFactory = _ => 0.5 };
        var nodes = new Option<int>("--nodes") { Description = "Simulated nodes.", DefaultValueFactory = _ => 5 };
        var slots = new Option<int>("--slots") { Description = "Slots per node.", DefaultValueFactory = _ => 10 };
        var command = new Command("bench-scheduler", "[benchmark] Measure scheduling overhead with synthetic jobs that hold a slot for a fixed time.") { trials, hold, nodes, slots };
        command.SetAction((parse, cancellation) =>
            RunAsync(parse.GetValue(trials), parse.GetValue(hold), parse.GetValue(nodes), parse.GetValue(slots), cancellation));
        return command;
    }

    /// <summary>Submits a sweep of synthetic jobs and waits for the end; returns the seconds the submission took.</summary>
    static async Task<double> RunSweepAsync(LocalCluster cluster, string name, int trials, string directory, CancellationToken cancellation)
    {
        var submit = new SubmitSweep { SweepId = name, Name = name, Metric = "val_accuracy", Maximize = true, OutputRoot = directory };
        for (int i = 0; i < trials; i++) submit.Jobs.Add(new PlannedJob { JobId = $"job-{i:D6}", Kind = JobKind.Student, WorkJson = "{}" });
        var clock = Stopwatch.StartNew();
        await cluster.Sweeps.Ask<SweepAccepted>(submit, TimeSpan.FromSeconds(60), cancellation);
        double submitted = clock.Elapsed.TotalSeconds;
        await SweepRegion.Completed(cluster.System, cluster.Sweeps, name, cancellation);
        return submitted;
    }

    /// <summary>
    /// What the API's calls cost on the finished sweep (asked of its entity in this process, as the API asks it): the
    /// counts alone, a page of 1,000 jobs (the first sorts the jobs into results order once), and the whole results.csv.
    /// </summary>
    static async Task ReadBack(LocalCluster cluster, string sweep, string directory, CancellationToken cancellation)
    {
        async Task<(double Ms, int Bytes)> Timed(Func<Task<SweepStatus>> ask)
        {
            var clock = Stopwatch.StartNew();
            var status = await ask();
            return (clock.Elapsed.TotalMilliseconds, status.CalculateSize());
        }
        var summary = await Timed(() => SweepRegion.Summary(cluster.Sweeps, sweep, cancellation));
        var first = await Timed(() => SweepRegion.Page(cluster.Sweeps, sweep, 0, 1000, cancellation));
        var pages = new List<double>();
        for (int i = 1; i <= 5; i++)
        {
            int total = (await SweepRegion.Summary(cluster.Sweeps, sweep, cancellation)).TotalJobs;
            pages.Add((await Timed(() => SweepRegion.Page(cluster.Sweeps, sweep, total * i / 6, 1000, cancellation))).Ms);
        }
        Console.WriteLine($"counts only: {summary.Ms:F1} ms, {summary.Bytes:N0} bytes; page of 1,000 jobs: first {first.Ms:F0} ms, " +
                          $"then {pages.Order().ElementAt(pages.Count / 2):F1} ms (median of {pages.Count}), {first.Bytes:N0} bytes");
        var export = Stopwatch.StartNew();
        var counts = await SweepRegion.Summary(cluster.Sweeps, sweep, cancellation);
        await SweepResults.WriteAsync(counts, () => SweepRegion.Jobs(cluster.Sweeps, sweep, cancellation), directory);
        Console.WriteLine($"results.csv and results.json of {counts.TotalJobs:N0} jobs, a page at a time: {export.Elapsed.TotalSeconds:F1} s, " +
                          $"{new FileInfo(Path.Combine(directory, SweepResults.CsvFile)).Length / 1e6:F1} MB csv; peak RSS now {Process.GetCurrentProcess().PeakWorkingSet64 / 1e6:F0} MB");
    }

    static async Task<int> RunAsync(int trials, double hold, int nodes, int slots, CancellationToken cancellation)
    {
        string directory = Path.Combine(Path.GetTempPath(), "orchestrator-bench-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory);
        var holdTime = TimeSpan.FromSeconds(hold);
        JobRunner holdSlot = (job, _, _, _, signals) =>
        {
            if (holdTime > TimeSpan.Zero) signals.Cancellation.WaitHandle.WaitOne(holdTime);
            return new TrialSummary { Name = job.JobId, Status = TrialStatus.Completed };
        };
        var devices = Enumerable.Range(0, nodes).Select(_ => (IReadOnlyList<string>)Enumerable.Repeat("cpu", slots).ToList()).ToList();
        try
        {
            await using var cluster = await LocalCluster.StartAsync(ClusterSettings.Sqlite(Path.Combine(directory, "journal.db"), LocalCluster.Node), devices, cancellation, holdSlot);
            // Cluster start-up (journal tables, shard coordinator, JIT) is left out: a one-job sweep runs first.
            await RunSweepAsync(cluster, "warm-up", 1, directory, cancellation);
            var clock = Stopwatch.StartNew();
            double submitted = await RunSweepAsync(cluster, "bench", trials, directory, cancellation);
            double wall = clock.Elapsed.TotalSeconds, running = wall - submitted;
            int totalSlots = nodes * slots;
            double ideal = Math.Ceiling((double)trials / totalSlots) * hold;
            Console.WriteLine($"{trials} jobs x {hold} s on {nodes} x {slots} = {totalSlots} slots, {Environment.ProcessorCount} cores, journal SQLite");
            Console.WriteLine($"submit (plan persisted, first jobs queued): {submitted:F2} s; then all jobs done in {running:F2} s");
            Console.WriteLine(hold > 0
                ? $"wall {wall:F2} s, ideal {ideal:F2} s, wall / ideal = {wall / ideal:F3}"
                : $"dispatch rate: {trials / running:F0} jobs/s (assigned, run, completed and journalled)");
            long journalBytes = Directory.GetFiles(directory, "journal.db*").Sum(f => new FileInfo(f).Length);
            Console.WriteLine($"peak RSS {Process.GetCurrentProcess().PeakWorkingSet64 / 1e6:F0} MB; journal {journalBytes / 1e6:F1} MB");
            await ReadBack(cluster, "bench", directory, cancellation);
            return CommandLineRunner.Ok;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
