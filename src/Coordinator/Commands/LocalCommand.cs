using System.CommandLine;
using Akka.Actor;
using Orchestrator.Coordinator.Cluster;
using Orchestrator.Coordinator.Sweeps;
using Orchestrator.Protocol.V1;
using Spectre.Console;
using static TorchSharp.torch;

namespace Orchestrator.Coordinator.Commands;

/// <summary><c>orchestrator local &lt;sweep.yaml&gt;</c>: runs a whole sweep on this machine on an in-process cluster.</summary>
public static class LocalCommand
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("sweep.yaml") { Description = "The sweep file (docs/sweep-file.md)." };
        var nodes = new Option<int>("--nodes") { Description = "Simulated GPU nodes.", DefaultValueFactory = _ => 1 };
        var slots = new Option<int>("--slots") { Description = "Concurrent trials per node.", DefaultValueFactory = _ => 1 };
        var device = new Option<string>("--device") { Description = "auto (a GPU per node when there are GPUs, else CPU) | cpu.", DefaultValueFactory = _ => "auto" };
        var output = new Option<DirectoryInfo?>("--out") { Description = "Output folder: journal, trials, results; default runs/<sweep name>. Running again with it resumes." };
        var postgres = new Option<string?>("--postgres") { Description = "Journal the sweep in PostgreSQL (an Npgsql connection string) instead of <out>/journal.db." };
        var command = new Command("local", "Run a whole sweep on this machine (an in-process cluster) and write results.csv / results.json.")
        {
            file, nodes, slots, device, output, postgres,
        };
        command.SetAction((parse, cancellation) =>
        {
            var plan = SweepPlanner.Plan(SweepFile.Load(parse.GetRequiredValue(file).FullName));
            int nodeCount = parse.GetValue(nodes), slotCount = parse.GetValue(slots);
            if (nodeCount < 1 || slotCount < 1) throw new Distillation.UserInputException("--nodes and --slots must be at least 1.");
            string directory = parse.GetValue(output)?.FullName ?? Path.Combine("runs", plan.Sweep.Name);
            string? connection = parse.GetValue(postgres);
            Func<string[], ClusterSettings> journal = connection is null
                ? roles => ClusterSettings.Sqlite(Path.Combine(directory, "journal.db"), roles)
                : roles => ClusterSettings.Postgres(connection, roles);
            return RunAsync(plan, directory, journal, Devices(parse.GetRequiredValue(device), nodeCount, slotCount), cancellation);
        });
        return command;
    }

    static IReadOnlyList<IReadOnlyList<string>> Devices(string device, int nodes, int slots)
    {
        if (device is not ("auto" or "cpu")) throw new Distillation.UserInputException($"--device {device}: use auto or cpu.");
        int gpus = device == "auto" && cuda.is_available() ? cuda.device_count() : 0;
        return Enumerable.Range(0, nodes).Select(n => (IReadOnlyList<string>)Enumerable.Repeat(gpus > 0 ? $"cuda:{n % gpus}" : "cpu", slots).ToList()).ToList();
    }

    public static async Task<int> RunAsync(SweepPlan plan, string directory, Func<string[], ClusterSettings> journal,
        IReadOnlyList<IReadOnlyList<string>> devices, CancellationToken cancellation)
    {
        Directory.CreateDirectory(directory);
        Console.WriteLine($"{plan.Sweep.Name}: {plan.Teachers.Count} teacher job(s), {plan.Students.Count} student trial(s) on {devices.Count} node(s) x {devices[0].Count} slot(s) ({devices[0][0]}) -> {directory}");
        await using var cluster = await LocalCluster.StartAsync(journal, devices, cancellation);
        var accepted = await cluster.Sweeps.Ask<SweepAccepted>(SweepSubmission.From(plan, Path.Combine(directory, "trials")), TimeSpan.FromSeconds(30), cancellation);
        if (accepted.AlreadyDone > 0) Console.WriteLine($"resuming: {accepted.AlreadyDone} of {accepted.Jobs} job(s) already finished");

        var view = new SweepProgressView();
        cluster.SubscribeProgress(view.OnProgress);
        SweepStatus status;
        try
        {
            status = AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected
                ? await WatchLive(cluster, plan.Sweep.Name, view, cancellation)
                : await WatchLines(cluster, plan.Sweep.Name, view, cancellation);
        }
        catch (OperationCanceledException)
        {
            Console.WriteLine("stopping: running trials keep their last epoch's checkpoint; run the same command again to resume.");
            return CommandLineRunner.Cancelled;
        }
        SweepResults.Write(status, directory);
        Console.WriteLine($"wrote {Path.Combine(directory, "results.csv")} and results.json");
        var best = SweepResults.Best(status);
        Console.WriteLine(best is null
            ? "no student trial finished."
            : $"best recipe on {status.Metric} (mean over {best.Runs} seed(s)): {string.Join(", ", best.Parameters.Select(p => $"{p.Key}={p.Value}"))}  " +
              $"{status.Metric} {best.MetricMean:F4} ± {best.MetricStd:F4}, test accuracy {best.TestMean:P2} ± {best.TestStd:P2}");
        return status.Jobs.Any(j => j.State == SweepEntity.Failed) ? CommandLineRunner.TrialFailed : CommandLineRunner.Ok;
    }

    static Task<SweepStatus> Status(LocalCluster cluster, string sweep, CancellationToken cancellation) =>
        cluster.Sweeps.Ask<SweepStatus>(new GetSweepStatus { SweepId = sweep }, TimeSpan.FromSeconds(30), cancellation);

    static async Task<SweepStatus> WatchLines(LocalCluster cluster, string sweep, SweepProgressView view, CancellationToken cancellation)
    {
        string last = "";
        while (true)
        {
            var status = await Status(cluster, sweep, cancellation);
            foreach (string line in view.NewlyFinished(status)) Console.WriteLine(line);
            string summary = view.Summary(status);
            if (summary[..summary.LastIndexOf(';')] != last) Console.WriteLine(summary);
            last = summary[..summary.LastIndexOf(';')];
            if (status.Complete) return status;
            await Task.Delay(TimeSpan.FromSeconds(1), cancellation);
        }
    }

    static async Task<SweepStatus> WatchLive(LocalCluster cluster, string sweep, SweepProgressView view, CancellationToken cancellation)
    {
        var status = await Status(cluster, sweep, cancellation);
        await AnsiConsole.Live(view.Table(status)).StartAsync(async live =>
        {
            while (!status.Complete)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500), cancellation);
                status = await Status(cluster, sweep, cancellation);
                live.UpdateTarget(view.Table(status));
            }
        });
        foreach (string line in view.NewlyFinished(status)) Console.WriteLine(line);
        return status;
    }
}
