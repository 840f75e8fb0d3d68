using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orchestrator.Coordinator.Api;
using Orchestrator.Coordinator.Cluster;
using Orchestrator.Coordinator.Planning;
using Orchestrator.Distillation;
using Orchestrator.Hosting;

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
        var bind = ClusterFlags.Bind("the gRPC API and /metrics");
        var port = ClusterFlags.Port(fallback: 4053);
        var output = new Option<DirectoryInfo>("--out") { Description = "Folder for the journal and every sweep's trials and results.", DefaultValueFactory = _ => new DirectoryInfo("runs/serve") };
        var postgres = new Option<string?>("--postgres")
        {
            Description = "Journal in PostgreSQL (an Npgsql connection string; $ORCHESTRATOR_POSTGRES) instead of <out>/journal.db.",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("ORCHESTRATOR_POSTGRES"),
        };
        var sweeps = new Option<FileInfo[]>("--sweep") { Description = "Sweep files to submit at start.", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [] };
        var softTargets = LocalCommand.SoftTargetStoreOption();
        var grpcPort = new Option<int>("--grpc-port")
        {
            Description = "Port of the gRPC API (Sweeps, health, reflection; $ORCHESTRATOR_GRPC_PORT; default 50051).",
            DefaultValueFactory = _ => ClusterFlags.IntFromEnvironment("ORCHESTRATOR_GRPC_PORT", 50051),
        };
        var tokenFile = ApiFlags.TokenFile();
        var certificate = new Option<FileInfo?>("--tls-cert") { Description = "Serve the API over TLS with this PEM certificate (and --tls-key)." };
        var key = new Option<FileInfo?>("--tls-key") { Description = "The PEM private key of --tls-cert." };
        var metricsPort = ClusterFlags.MetricsPort();
        var httpPort = ClusterFlags.HttpPort();
        var watchHistory = new Option<int>("--watch-history")
        {
            Description = "Events kept for Watch streams to resume from (a watcher further behind gets a snapshot instead).",
            DefaultValueFactory = _ => WatchHub.DefaultCapacity,
        };
        var dataDir = new DataDirOption();
        var allowPaths = new Option<DirectoryInfo[]>("--allow-path")
        {
            Description = "A folder whose files sweeps submitted over the API may name (teachers, TorchScript files, datasets), besides the datasets' root " +
                          "(--data-dir), the soft-target store and --out; repeat it for more. Any other path is refused (PERMISSION_DENIED).",
            AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [],
        };
        var command = new Command("serve", "Run the coordinator: sweep state, scheduling, results and the gRPC API, for GPU nodes that join it.")
        {
            hostname, bind, port, output, postgres, sweeps, softTargets, grpcPort, tokenFile, certificate, key, watchHistory, metricsPort, dataDir, allowPaths, httpPort,
        };
        command.SetAction(async (parse, cancellation) =>
        {
            dataDir.Apply(parse);
            string host = parse.GetRequiredValue(hostname), directory = parse.GetRequiredValue(output).FullName;
            var plans = parse.GetRequiredValue(sweeps).Select(f => SweepFile.Load(f.FullName)).Select(s => SweepPlanner.Plan(s, Path.Combine(directory, s.Name))).ToList();
            int listenPort = parse.GetValue(port);
            if (listenPort <= 0) throw new UserInputException("--port: the coordinator needs a fixed port, which GPU nodes give as --seed-nodes.");
            Directory.CreateDirectory(directory);
            var node = new NodeSettings(host, listenPort, [NodeSettings.CoordinatorRole], [ClusterFlags.Address(host, listenPort)]);
            string? connection = parse.GetValue(postgres);
            var journal = connection is null ? ClusterSettings.Sqlite(Path.Combine(directory, "journal.db"), node) : ClusterSettings.Postgres(connection, node);
            if (parse.GetValue(certificate) is null != parse.GetValue(key) is null) throw new UserInputException("--tls-cert and --tls-key go together.");
            if (parse.GetValue(watchHistory) < 100) throw new UserInputException("--watch-history: keep at least 100 events.");
            var api = new ApiOptions(parse.GetValue(grpcPort), ApiOptions.ReadToken(parse.GetValue(tokenFile)?.FullName),
                parse.GetValue(certificate)?.FullName, parse.GetValue(key)?.FullName, parse.GetValue(watchHistory), parse.GetValue(metricsPort),
                ClusterFlags.BindAddress(parse, bind, hostname), AllowedPaths(parse.GetRequiredValue(allowPaths)), parse.GetValue(httpPort));
            return await ServeAsync(journal, api, plans, directory, parse.GetRequiredValue(softTargets).FullName, cancellation);
        });
        return command;
    }

    static IReadOnlyList<string> AllowedPaths(DirectoryInfo[] folders) => folders.Select(folder => folder.Exists ? folder.FullName
        : throw new UserInputException($"--allow-path {folder.FullName}: no such folder; name a folder that exists.")).ToList();

    /// <summary>
    /// Serves until cancelled. A coordinator its cluster removed (downed by a split-brain decision) has an actor
    /// system that ends, and would answer nothing while its process lived on: it starts again, its sweeps recovering
    /// from the journal, as its nodes rejoin.
    /// </summary>
    static async Task<int> ServeAsync(ClusterSettings journal, ApiOptions api, IReadOnlyList<SweepPlan> plans, string directory, string softTargetStore,
        CancellationToken cancellation)
    {
        using var stop = new StopSignal();
        while (true)
        {
            await using var server = CoordinatorServer.Build(journal, api, directory, softTargetStore);
            await server.StartAsync(cancellation);
            var log = server.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Orchestrator.Coordinator");
            if (!await ServeOnceAsync(server, log, journal, api, plans, softTargetStore, stop, cancellation)) return CommandLineRunner.Ok;
            log.LogWarning("coordinator removed from the cluster; starting again in {Delay} (its sweeps recover from the journal)", ClusterMember.RejoinDelay);
            await server.StopAsync(CancellationToken.None);
            try { await Task.Delay(ClusterMember.RejoinDelay, cancellation); }
            catch (OperationCanceledException) { return CommandLineRunner.Ok; }
        }
    }

    /// <summary>Submits the sweeps and serves; true when its actor system ended (the cluster removed it), false when it was stopped.</summary>
    static async Task<bool> ServeOnceAsync(Microsoft.AspNetCore.Builder.WebApplication server, ILogger log, ClusterSettings journal, ApiOptions api,
        IReadOnlyList<SweepPlan> plans, string softTargetStore, StopSignal stop, CancellationToken cancellation)
    {
        log.LogInformation("coordinator at {Address}, its sweeps journaled in {Journal}; GPU nodes join with --seed-nodes {Address}",
            ClusterFlags.Address(journal.Node.Hostname, journal.Node.Port), journal.JournalDescription, ClusterFlags.Address(journal.Node.Hostname, journal.Node.Port));
        log.LogInformation("gRPC API on port {Port} at {Bind} ({Transport}, {Token}){Metrics}{Pages}", api.Port, api.Bind, api.CertificateFile is null ? "plaintext HTTP/2" : "TLS",
            api.Token is null ? "no token" : "bearer token required", api.MetricsPort > 0 ? $"; Prometheus metrics at :{api.MetricsPort}/metrics" : "",
            api.HttpPort > 0 ? $"; live sweep pages at {(api.CertificateFile is null ? "http" : "https")}://{api.Bind}:{api.HttpPort}/" : "");

        var coordinator = server.Services.GetRequiredService<CoordinatorContext>();
        var followers = server.Services.GetRequiredService<SweepFollowers>();
        foreach (var plan in plans)
        {
            var accepted = await SweepRegion.Submit(coordinator.Sweeps, plan, softTargetStore, SweepRegion.AsUserInput, cancellation);
            if (accepted.AlreadyDone > 0) log.LogInformation("{Sweep}: resuming, {Done} of {Jobs} job(s) already finished", plan.Sweep.Name, accepted.AlreadyDone, accepted.Jobs);
            followers.Follow(plan.Sweep.Name, plan.Directory);
        }
        var system = server.Services.GetRequiredService<Akka.Actor.ActorSystem>();
        await Task.WhenAny(system.WhenTerminated, Task.Delay(Timeout.Infinite, cancellation));
        // SIGTERM ends the actor system (Akka's own handler) before the command's token or our handler hears of it.
        if (!await stop.AskedAsync(cancellation)) return true;
        log.LogInformation("coordinator stopping (asked to): its sweeps stay in the journal and resume when it starts again");
        await server.StopAsync(CancellationToken.None);
        return false;
    }
}
