using System.CommandLine;
using Orchestrator.Coordinator.Cluster;
using Orchestrator.Coordinator.Planning;
using Orchestrator.Distillation.SoftTargets;
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
        var softTargets = SoftTargetStoreOption();
        var retry = new Option<bool>("--retry") { Description = "Run the sweep's failed jobs again, their own failures too (running again retries only what the machine broke)." };
        var dataDir = new DataDirOption();
        var httpPort = ClusterFlags.HttpPort();
        var command = new Command("local", "Run a whole sweep on this machine (an in-process cluster) and write results.csv, results.json and report.html.")
        {
            file, nodes, slots, device, output, postgres, softTargets, retry, dataDir, httpPort,
        };
        command.SetAction((parse, cancellation) =>
        {
            dataDir.Apply(parse);
            var sweep = SweepFile.Load(parse.GetRequiredValue(file).FullName);
            int nodeCount = parse.GetValue(nodes), slotCount = parse.GetValue(slots);
            if (nodeCount < 1 || slotCount < 1) throw new Distillation.UserInputException("--nodes and --slots must be at least 1.");
            string directory = parse.GetValue(output)?.FullName ?? Path.Combine("runs", sweep.Name);
            var plan = SweepPlanner.Plan(sweep, directory);
            if (SweepPlanner.MissingDatasets(plan) is [_, ..] missing) throw new Distillation.UserInputException(string.Join(Environment.NewLine, missing));
            string? connection = parse.GetValue(postgres);
            var journal = connection is null
                ? ClusterSettings.Sqlite(Path.Combine(directory, "journal.db"), LocalCluster.Node)
                : ClusterSettings.Postgres(connection, LocalCluster.Node);
            return RunAsync(plan, parse.GetRequiredValue(softTargets).FullName, journal, Devices(parse.GetRequiredValue(device), nodeCount, slotCount),
                parse.GetValue(retry), cancellation, parse.GetValue(httpPort));
        });
        return command;
    }

    static IReadOnlyList<IReadOnlyList<string>> Devices(string device, int nodes, int slots)
    {
        if (device is not ("auto" or "cpu")) throw new Distillation.UserInputException($"--device {device}: use auto or cpu.");
        int gpus = device == "auto" && cuda.is_available() ? cuda.device_count() : 0;
        return Enumerable.Range(0, nodes).Select(n => (IReadOnlyList<string>)Enumerable.Repeat(gpus > 0 ? $"cuda:{n % gpus}" : "cpu", slots).ToList()).ToList();
    }

    /// <summary>--soft-targets: the soft-target store, shared by every run that names it.</summary>
    public static Option<DirectoryInfo> SoftTargetStoreOption() => new("--soft-targets")
    {
        Description = $"Soft-target store, shared by sweeps and trials; ${SoftTargetStore.DirectoryVariable} sets the default.",
        DefaultValueFactory = _ => new DirectoryInfo(SoftTargetStore.DefaultDirectory),
    };

    /// <param name="httpPort">Serve the live sweep pages on this port (<see cref="Api.SweepPages"/>); 0: none.</param>
    public static async Task<int> RunAsync(SweepPlan plan, string softTargetStore, ClusterSettings journal,
        IReadOnlyList<IReadOnlyList<string>> devices, bool retryFailed, CancellationToken cancellation, int httpPort = 0)
    {
        string directory = plan.Directory;
        Directory.CreateDirectory(directory);
        string jobs = plan.Sweep.Method == SearchMethod.Bayes
            ? $"bayes: {plan.Sweep.RunCap} point(s) x {plan.Sweep.Seeds.Count} seed(s), proposed as slots free up,"
            : $"{plan.Teachers.Count} teacher job(s), {plan.SoftTargetJobs.Count} soft-target job(s), {plan.Students.Count} student trial(s), {plan.Baselines.Count} baseline(s)";
        Console.WriteLine($"{plan.Sweep.Name}: {jobs} on {devices.Count} node(s) x {devices[0].Count} slot(s) ({devices[0][0]}) -> {directory}");
        await using var cluster = await LocalCluster.StartAsync(journal, devices, cancellation);
        await using var pages = httpPort > 0 ? await Api.SweepPages.ServeAsync(httpPort, cluster.Sweeps, cancellation) : null;
        if (pages is not null) Console.WriteLine($"{plan.Sweep.Name}: live at http://127.0.0.1:{httpPort}/sweeps/{plan.Sweep.Name}");
        try
        {
            bool live = AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected;
            var status = await SweepConsole.SubmitAndFollowAsync(cluster.System, cluster.Sweeps, plan, softTargetStore, live, retryFailed, cancellation);
            int exit = await SweepConsole.ReportAsync(cluster.Sweeps, status, directory, cancellation);
            if (status.Jobs.Count(j => j.State == JobState.Failed) is > 0 and var failed)
                Console.WriteLine($"{plan.Sweep.Name}: {failed} job(s) failed (results.csv's failure_reason says why); " +
                                  "run the same command with --retry to run them again, their finished results kept.");
            return exit;
        }
        catch (OperationCanceledException)
        {
            Console.WriteLine("stopping: running trials keep their last epoch's checkpoint; run the same command again to resume.");
            return CommandLineRunner.Cancelled;
        }
    }
}
