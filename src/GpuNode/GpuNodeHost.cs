using Akka.Cluster.Hosting;
using Akka.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using Orchestrator.Distillation;
using Orchestrator.Hosting;
using Orchestrator.Protocol.V1;
using static TorchSharp.torch;

using Orchestrator.Distillation.Training;

namespace Orchestrator.GpuNode;

/// <summary>What a GPU node is: where it joins, its name and slots, and where its metrics go.</summary>
/// <param name="ApiEndpoint">The coordinator's gRPC API: epoch progress goes there over one stream; null: over the cluster.</param>
/// <param name="MetricsPort">Where Prometheus scrapes this node's /metrics; 0: no endpoint.</param>
/// <param name="Bind">The address /metrics listens on (<see cref="Listening.Listen"/>): --bind, else --hostname.</param>
/// <param name="PackCapacity">The most trials a slot trains as one pack (--pack-capacity).</param>
public sealed record GpuNodeOptions(NodeSettings Member, string Name, IReadOnlyList<string> SlotDevices, string? ApiEndpoint = null, string? Token = null,
    int MetricsPort = 0, string Bind = "127.0.0.1", int PackCapacity = PackSizing.Max)
{
    /// <summary>
    /// Each slot's device: <paramref name="devices"/> is auto (every GPU, else the CPU), cpu, or cuda:0,cuda:1,...;
    /// each device <paramref name="perDevice"/> times. A bad name or a missing GPU is bad input, said before anything starts.
    /// </summary>
    public static IReadOnlyList<string> Slots(string devices, int perDevice)
    {
        if (perDevice < 1) throw new UserInputException("--slots-per-device must be at least 1.");
        var list = devices switch
        {
            "auto" => cuda.is_available() ? Enumerable.Range(0, cuda.device_count()).Select(i => $"cuda:{i}").ToList() : ["cpu"],
            _ => devices.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList(),
        };
        foreach (var device in list) Distillation.Training.Devices.Resolve(device);
        return list.SelectMany(d => Enumerable.Repeat(d, perDevice)).ToList();
    }
}

/// <summary>
/// The GPU node process as one host: its cluster member and agent, its slot workers, the metrics uplink to the
/// coordinator's API (when it has one), and its Prometheus endpoint on Kestrel (when it has a port). Everything it
/// owns is a service of the host, stopped and disposed with it.
/// </summary>
public static class GpuNodeHost
{

    /// <summary>
    /// Runs the node until <paramref name="cancellation"/>. When the cluster removes it (its coordinator was killed
    /// and the split-brain resolver downed this side, a partition did, or every coordinator left), its actor system
    /// ends: the node then stops its host (its running trials stop within a batch, keeping their last checkpoint;
    /// the coordinator has queued them again) and starts a new one that joins the seed nodes afresh, so that a
    /// restarted coordinator gets its nodes back.
    /// </summary>
    public static async Task RunAsync(GpuNodeOptions options, CancellationToken cancellation)
    {
        using var stop = new StopSignal();
        for (int incarnation = 1; ; incarnation++)
        {
            var host = await StartAsync(options, cancellation);
            await using var disposing = (IAsyncDisposable)host;
            var log = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Orchestrator.GpuNode");
            log.LogInformation("{Node}: {Slots} slot(s) ({Devices}), {Joining} {Seeds}{Metrics}{Prometheus}", options.Name, options.SlotDevices.Count,
                string.Join(", ", options.SlotDevices), incarnation == 1 ? "joining" : "joining again", string.Join(", ", options.Member.SeedNodes),
                options.ApiEndpoint is null ? "" : $"; metrics to {options.ApiEndpoint}", options.MetricsPort > 0 ? $"; Prometheus metrics at :{options.MetricsPort}/metrics" : "");
            var system = host.Services.GetRequiredService<Akka.Actor.ActorSystem>();
            _ = SayWhenNoCoordinatorAnswers(system, options, log, cancellation);
            await Task.WhenAny(system.WhenTerminated, Task.Delay(Timeout.Infinite, cancellation));
            // SIGTERM ends the actor system (Akka's own handler) before the command's token or our handler hears of it.
            if (await stop.AskedAsync(cancellation))
            {
                log.LogInformation("{Node}: stopping (asked to): leaving the cluster; running trials keep their last epoch's checkpoint", options.Name);
                await host.StopAsync(CancellationToken.None);
                return;
            }
            log.LogWarning("{Node}: removed from the cluster (its coordinator restarted, left or is cut off); stopping its trials and joining again in {Delay}",
                options.Name, ClusterMember.RejoinDelay);
            await host.StopAsync(CancellationToken.None);
            try { await Task.Delay(ClusterMember.RejoinDelay, cancellation); }
            catch (OperationCanceledException) { return; }
        }
    }

    /// <summary>How long a node waits to be let into the cluster before it says that nobody answers.</summary>
    static readonly TimeSpan JoinPatience = TimeSpan.FromSeconds(10);

    /// <summary>
    /// One line, now and then, while no coordinator has let the node in (a wrong --seed-nodes address or port, or no
    /// coordinator started yet), in place of Akka's association warnings every few seconds (filtered out in ClusterMember).
    /// </summary>
    static async Task SayWhenNoCoordinatorAnswers(Akka.Actor.ActorSystem system, GpuNodeOptions options, ILogger log, CancellationToken cancellation)
    {
        var cluster = Akka.Cluster.Cluster.Get(system);
        var joined = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        cluster.RegisterOnMemberUp(() => joined.TrySetResult());
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var waited = JoinPatience; ; waited += waited) // says so after 10 s, 30 s, 70 s, ...
        {
            var first = await Task.WhenAny(joined.Task, system.WhenTerminated, Task.Delay(waited, cancellation)).ConfigureAwait(false);
            if (first != joined.Task && first != system.WhenTerminated && !cancellation.IsCancellationRequested)
            {
                log.LogWarning("{Node}: no coordinator answers at {Seeds} after {Seconds:F0} s: is `orchestrator serve` running there, with that --hostname and --port? Still trying.",
                    options.Name, string.Join(", ", options.Member.SeedNodes), clock.Elapsed.TotalSeconds);
                continue;
            }
            if (first == joined.Task) log.LogInformation("{Node}: joined the cluster; waiting for jobs", options.Name);
            return;
        }
    }

    /// <summary>Starts the node; a metrics port already taken is bad input.</summary>
    public static async Task<IHost> StartAsync(GpuNodeOptions options, CancellationToken cancellation)
    {
        var host = Build(options);
        try
        {
            await host.StartAsync(cancellation);
            return host;
        }
        catch (IOException e) when (options.MetricsPort > 0)
        {
            await ((IAsyncDisposable)host).DisposeAsync();
            throw new UserInputException($"--metrics-port {options.MetricsPort}: cannot serve metrics there ({e.Message}); choose a free port.");
        }
    }

    public static IHost Build(GpuNodeOptions options)
    {
        if (options.MetricsPort == 0)
        {
            var builder = Host.CreateApplicationBuilder();
            builder.AddGpuNode(options);
            return builder.Build();
        }
        // /metrics (HTTP/1.1) at --bind: its --hostname by default; every interface in Kubernetes, where Prometheus scrapes a pod by its IP.
        var web = WebApplication.CreateSlimBuilder();
        web.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(options.Bind, options.MetricsPort, listen => listen.Protocols = HttpProtocols.Http1));
        web.AddGpuNode(options);
        web.Services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter(NodeMetrics.MeterName).AddRuntimeInstrumentation().AddPrometheusExporter());
        var app = web.Build();
        app.MapPrometheusScrapingEndpoint();
        return app;
    }

    /// <summary>The node's services: logging, slot workers, the uplink and instruments it is configured for, and the actor system with its agent.</summary>
    public static IHostApplicationBuilder AddGpuNode(this IHostApplicationBuilder builder, GpuNodeOptions options)
    {
        builder.Logging.AddOrchestratorConsole();
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton<SlotWorkers>(services => new SlotWorkers(services.GetRequiredService<ILogger<SlotWorkers>>()));
        if (options.ApiEndpoint is { } endpoint)
            builder.Services.AddSingleton(services => new MetricsUplink(endpoint, options.Token, options.Name, services.GetRequiredService<ILogger<MetricsUplink>>()));
        if (options.MetricsPort > 0) builder.Services.AddSingleton(new NodeMetrics(options.SlotDevices));
        builder.Services.AddAkka(NodeSettings.SystemName, (akka, services) =>
        {
            Action<JobProgress>? progress = services.GetService<MetricsUplink>() is { } uplink ? uplink.Post : null;
            akka.AddGpuNodeAgent(options.Member, options.Name, options.SlotDevices, services.GetRequiredService<SlotWorkers>().Run, options.PackCapacity, progress,
                services.GetService<NodeMetrics>(), services.GetRequiredService<ILogger<NodeAgent>>());
        });
        return builder;
    }

    /// <summary>
    /// A cluster member that offers its slots to the coordinator's scheduler (through the singleton's proxy). The local
    /// cluster, which is also the coordinator, builds its agents itself.
    /// </summary>
    /// <param name="runner">What a slot does with a pack of jobs (<see cref="SlotWorkers.Run"/>).</param>
    /// <param name="capacity">The most trials a slot trains as one pack.</param>
    /// <param name="progress">Where epoch progress goes (a <see cref="MetricsUplink"/>); null: to the scheduler, over the cluster.</param>
    /// <param name="metrics">This node's Prometheus instruments; null: none.</param>
    public static AkkaConfigurationBuilder AddGpuNodeAgent(this AkkaConfigurationBuilder builder, NodeSettings settings, string nodeName,
        IReadOnlyList<string> slotDevices, PackRunner runner, int capacity, Action<JobProgress>? progress = null, NodeMetrics? metrics = null, ILogger? log = null) => builder
        .AddOrchestratorMember(settings)
        .WithSingletonProxy<SchedulerProxy>(NodeSettings.SchedulerName, ClusterMember.SchedulerSingleton)
        .WithActors((system, registry) =>
        {
            system.ActorOf(NodeAgent.Props(nodeName, slotDevices, registry.Get<SchedulerProxy>(), runner, capacity, progress, metrics, log), "agent");
            system.ActorOf(CoordinatorWatch.Props(log ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance), "coordinator-watch");
        });
}
