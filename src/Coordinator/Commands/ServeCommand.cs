using System.CommandLine;
using Akka.Actor;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orchestrator.Coordinator.Cluster;
using Orchestrator.Coordinator.Sweeps;
using Orchestrator.Distillation;
using Orchestrator.GpuNode;

namespace Orchestrator.Coordinator.Commands;

/// <summary>
/// <c>orchestrator serve</c>: the coordinator process. It holds the sweep entities (journalled in SQLite or PostgreSQL)
/// and the scheduler; GPU nodes join it with <c>orchestrator gpunode --seed-nodes</c>. Sweeps given with --sweep are
/// submitted at start (the gRPC API adds submission at run time), and each one's results are written when it completes.
/// </summary>
public static class ServeCommand
{
    public static Command Create()
    {
        var hostname = ClusterFlags.Hostname();
        var port = ClusterFlags.Port(fallback: 4053);
        var output = new Option<DirectoryInfo>("--out") { Description = "Folder for the journal and every sweep's trials and results.", DefaultValueFactory = _ => new DirectoryInfo("runs/serve") };
        var postgres = new Option<string?>("--postgres")
        {
            Description = "Journal in PostgreSQL (an Npgsql connection string; $ORCHESTRATOR_POSTGRES) instead of <out>/journal.db.",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("ORCHESTRATOR_POSTGRES"),
        };
        var sweeps = new Option<FileInfo[]>("--sweep") { Description = "Sweep files to submit at start.", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [] };
        var softTargets = LocalCommand.SoftTargetStoreOption();
        var command = new Command("serve", "Run the coordinator: sweep state, scheduling and results, for GPU nodes that join it.")
        {
            hostname, port, output, postgres, sweeps, softTargets,
        };
        command.SetAction(async (parse, cancellation) =>
        {
            string host = parse.GetRequiredValue(hostname), directory = parse.GetRequiredValue(output).FullName;
            var plans = parse.GetRequiredValue(sweeps).Select(f => SweepFile.Load(f.FullName)).Select(s => SweepPlanner.Plan(s, Path.Combine(directory, s.Name))).ToList();
            int listenPort = parse.GetValue(port);
            if (listenPort <= 0) throw new UserInputException("--port: the coordinator needs a fixed port, which GPU nodes give as --seed-nodes.");
            Directory.CreateDirectory(directory);
            var node = new NodeSettings(host, listenPort, [NodeSettings.CoordinatorRole], [ClusterFlags.Address(host, listenPort)]);
            string? connection = parse.GetValue(postgres);
            var journal = connection is null ? ClusterSettings.Sqlite(Path.Combine(directory, "journal.db"), node) : ClusterSettings.Postgres(connection, node);
            return await ServeAsync(journal, plans, parse.GetRequiredValue(softTargets).FullName, cancellation);
        });
        return command;
    }

    static async Task<int> ServeAsync(ClusterSettings journal, IReadOnlyList<SweepPlan> plans, string softTargetStore, CancellationToken cancellation)
    {
        using var host = NodeHosting.BuildHost(akka => akka.AddCoordinator(journal));
        await host.StartAsync(cancellation);
        var system = host.Services.GetRequiredService<ActorSystem>();
        var region = host.Services.GetRequiredService<ActorRegistry>().Get<SweepEntity>();
        var view = new SweepProgressView();
        system.ActorOf(ProgressForwarder.Props(view.OnProgress));
        Console.WriteLine($"coordinator at {ClusterFlags.Address(journal.Node.Hostname, journal.Node.Port)}; journal {journal.JournalProvider}; GPU nodes join with --seed-nodes");

        var followers = plans.Select(async plan =>
        {
            var status = await SweepWatch.SubmitAndFollowAsync(region, plan, softTargetStore, view, live: false, cancellation);
            SweepWatch.Report(status, plan.Directory);
        }).ToList();
        try
        {
            await Task.WhenAll(followers.Append(Task.Delay(Timeout.Infinite, cancellation)));
        }
        catch (OperationCanceledException) { }
        Console.WriteLine("coordinator stopping.");
        await host.StopAsync(CancellationToken.None);
        return CommandLineRunner.Ok;
    }
}
