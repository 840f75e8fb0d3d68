using System.CommandLine;
using System.Diagnostics;
using System.Reflection;
using Akka.Actor;
using Orchestrator.Coordinator.Cluster;
using Orchestrator.Coordinator.Commands;
using Orchestrator.GpuNode;
using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.Benchmarks;

/// <summary>
/// <c>orchestrator bench-recovery</c>: how soon a coordinator answers again after kill -9. A child process runs a
/// sweep of SYNTHETIC jobs (no training) on a SQLite journal until half of them are done and its slots hold the
/// next ones; it is killed with SIGKILL; this process then starts a coordinator on the same journal and times
/// until the sweep answers (its entity loaded the latest snapshot and replayed the events after it), and reports
/// what the jobs came back as: those that were running, queued.
/// </summary>
public static class BenchRecoveryCommand
{
    const string Sweep = "bench";

    public static Command Create()
    {
        var trials = new Option<int>("--trials") { Description = "Number of synthetic jobs.", DefaultValueFactory = _ => 100_000 };
        var fill = new Option<string?>("--fill-journal") { Description = "(the child process) run the sweep on this journal until half is done, then wait to be killed.", Hidden = true };
        var command = new Command("bench-recovery", "[benchmark] Measure how soon a coordinator killed with SIGKILL answers again, holding a sweep half done.") { trials, fill };
        command.SetAction((parse, cancellation) => parse.GetValue(fill) is { } journal
            ? FillAsync(parse.GetValue(trials), journal, cancellation)
            : RunAsync(parse.GetValue(trials), cancellation));
        return command;
    }

    static async Task<int> RunAsync(int trials, CancellationToken cancellation)
    {
        if (trials < 2) throw new Distillation.UserInputException("--trials must be at least 2.");
        string directory = Directory.CreateTempSubdirectory("orchestrator-bench-recovery-").FullName, journal = Path.Combine(directory, "journal.db");
        try
        {
            var clock = Stopwatch.StartNew();
            using (var child = Process.Start(ThisCommand("bench-recovery", "--trials", $"{trials}", "--fill-journal", journal))!)
            {
                string? line;
                while ((line = await child.StandardOutput.ReadLineAsync(cancellation)) is not null && !line.StartsWith("ready", StringComparison.Ordinal)) { }
                if (line is null) throw new InvalidOperationException($"the child process ended before half the sweep was done: {await child.StandardError.ReadToEndAsync(cancellation)}");
                Console.WriteLine($"child: {line} after {clock.Elapsed.TotalSeconds:F0} s; killing it with SIGKILL");
                child.Kill(); // SIGKILL: no shutdown, no last write
                await child.WaitForExitAsync(cancellation);
            }
            long journalBytes = Directory.GetFiles(directory, "journal.db*").Sum(f => new FileInfo(f).Length);

            clock.Restart();
            // Information: the entity's own line on what its recovery took (snapshot, then events).
            await using var cluster = await LocalCluster.StartAsync(ClusterSettings.Sqlite(journal, LocalCluster.Node), [], cancellation, logLevel: Microsoft.Extensions.Logging.LogLevel.Information);
            double started = clock.Elapsed.TotalSeconds;
            var status = await Answered(cluster, cancellation);
            double answered = clock.Elapsed.TotalSeconds;
            var page = Stopwatch.StartNew();
            await SweepRegion.Page(cluster.Sweeps, Sweep, trials / 2, 1000, cancellation);
            Console.WriteLine($"{trials:N0} jobs, journal {journalBytes / 1e6:F0} MB, {Environment.ProcessorCount} cores: cluster up in {started:F1} s, " +
                              $"the sweep answered {answered - started:F1} s later ({answered:F1} s after the restart began); a page of 1,000 jobs then {page.Elapsed.TotalMilliseconds:F0} ms");
            var c = status.Counts;
            Console.WriteLine($"after recovery: {c.Done:N0} done, {c.Running:N0} running, {c.Queued:N0} queued, {c.Failed:N0} failed; peak RSS {Process.GetCurrentProcess().PeakWorkingSet64 / 1e6:F0} MB");
            return c.Done == trials / 2 && c.Running == 0 && c.Queued == trials - trials / 2 ? CommandLineRunner.Ok : CommandLineRunner.TrialFailed;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>The sweep's counts, asked until its entity has recovered (a recovery longer than one ask's timeout is still measured).</summary>
    static async Task<SweepStatus> Answered(LocalCluster cluster, CancellationToken cancellation)
    {
        while (true)
        {
            try
            {
                return await SweepRegion.Summary(cluster.Sweeps, Sweep, cancellation);
            }
            catch (AskTimeoutException)
            {
                Console.WriteLine("... still recovering");
            }
        }
    }

    /// <summary>This orchestrator with other arguments, its output read by the caller.</summary>
    static ProcessStartInfo ThisCommand(params string[] arguments)
    {
        var info = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet") info.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
        foreach (string argument in arguments) info.ArgumentList.Add(argument);
        return info;
    }

    /// <summary>The child: the first half of the jobs finish at once, the next hold their slots until the process is killed.</summary>
    static async Task<int> FillAsync(int trials, string journal, CancellationToken cancellation)
    {
        int half = trials / 2;
        JobRunner runner = (job, _, _, _, signals) =>
        {
            int index = int.Parse(job.JobId.AsSpan("job-".Length));
            if (index >= half) signals.Cancellation.WaitHandle.WaitOne();
            return new TrialSummary { Name = job.JobId, Status = TrialStatus.Completed, EpochsRun = 1, BestValidationAccuracy = index % 1000 / 1000.0, TestAccuracy = 0.5 };
        };
        var devices = Enumerable.Range(0, 5).Select(_ => (IReadOnlyList<string>)Enumerable.Repeat("cpu", 10).ToList()).ToList();
        await using var cluster = await LocalCluster.StartAsync(ClusterSettings.Sqlite(journal, LocalCluster.Node), devices, cancellation, runner);
        var submit = new SubmitSweep { SweepId = Sweep, Name = Sweep, Metric = "val_accuracy", Maximize = true, OutputRoot = Path.Combine(Path.GetDirectoryName(journal)!, "jobs") };
        for (int i = 0; i < trials; i++)
            submit.Jobs.Add(new PlannedJob { JobId = $"job-{i:D7}", Kind = JobKind.Student, WorkJson = "{}", Seed = i / 1000, Parameters = { ["point"] = $"{i % 1000}" } });
        await cluster.Sweeps.Ask<SweepAccepted>(submit, TimeSpan.FromMinutes(2), cancellation);
        while (true)
        {
            var counts = (await SweepRegion.Summary(cluster.Sweeps, Sweep, cancellation)).Counts;
            if (counts.Done >= half)
            {
                Console.WriteLine($"ready: {counts.Done:N0} done, {counts.Running:N0} running, {counts.Queued:N0} queued");
                await Task.Delay(Timeout.Infinite, cancellation);
            }
            await Task.Delay(200, cancellation);
        }
    }
}
