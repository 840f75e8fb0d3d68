using System.CommandLine;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using Orchestrator.Distillation;
using Orchestrator.GpuNode;
using static TorchSharp.torch;

namespace Orchestrator.Coordinator.Commands;

/// <summary><c>orchestrator gpunode</c>: a worker that joins a coordinator's cluster and trains the jobs its scheduler hands out.</summary>
public static class GpuNodeCommand
{
    public static Command Create()
    {
        var seeds = new Option<string[]>("--seed-nodes")
        {
            Description = "Akka addresses of the coordinator(s), e.g. akka.tcp://orchestrator@127.0.0.1:4053 ($ORCHESTRATOR_SEED_NODES, comma-separated).",
            DefaultValueFactory = _ => (Environment.GetEnvironmentVariable("ORCHESTRATOR_SEED_NODES") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries),
            AllowMultipleArgumentsPerToken = true,
        };
        var hostname = ClusterFlags.Hostname();
        var port = ClusterFlags.Port(fallback: 0);
        var devices = new Option<string>("--devices") { Description = "auto (every GPU, else the CPU) | cpu | cuda:0,cuda:1,...", DefaultValueFactory = _ => "auto" };
        var slots = new Option<int>("--slots-per-device") { Description = "Concurrent trials per device.", DefaultValueFactory = _ => 1 };
        var name = new Option<string?>("--name") { Description = "This node's name in logs and results (default: machine name and process id)." };
        var api = new Option<string?>("--api")
        {
            Description = "The coordinator's gRPC API, e.g. http://coordinator:50051 ($ORCHESTRATOR_API): metrics go there over one stream; " +
                          "without it, over the cluster.",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("ORCHESTRATOR_API"),
        };
        var token = ApiFlags.TokenFile();
        var metricsPort = ClusterFlags.MetricsPort();
        var command = new Command("gpunode", "Join a cluster as a GPU node and run the trials its scheduler hands out, until stopped.")
        {
            seeds, hostname, port, devices, slots, name, api, token, metricsPort,
        };
        command.SetAction(async (parse, cancellation) =>
        {
            var seedNodes = parse.GetRequiredValue(seeds);
            if (seedNodes.Length == 0) throw new UserInputException("--seed-nodes: give the coordinator's address, e.g. akka.tcp://orchestrator@127.0.0.1:4053.");
            int perDevice = parse.GetValue(slots);
            if (perDevice < 1) throw new UserInputException("--slots-per-device must be at least 1.");
            var slotDevices = SlotDevices(parse.GetRequiredValue(devices), perDevice);
            string nodeName = parse.GetValue(name) ?? $"{Environment.MachineName}-{Environment.ProcessId}";
            var settings = new NodeSettings(parse.GetRequiredValue(hostname), parse.GetValue(port), [NodeSettings.GpuRole], seedNodes);

            await using var uplink = parse.GetValue(api) is { } endpoint
                ? new MetricsUplink(ApiClient.CheckEndpoint(endpoint, "--api"), Api.ApiOptions.ReadToken(parse.GetValue(token)?.FullName), nodeName, Console.WriteLine)
                : null;
            Action<Protocol.V1.JobProgress>? progress = uplink is null ? null : p => uplink.Post(new Protocol.V1.MetricPoint
            {
                SweepId = p.SweepId, JobId = p.JobId, Slot = p.Slot, Epochs = p.Epochs, Metrics = p.Metrics,
            });
            int metricsAt = parse.GetValue(metricsPort);
            using var metrics = metricsAt > 0 ? new NodeMetrics(slotDevices) : null;
            await using var exporter = metricsAt > 0 ? await StartMetricsEndpoint(metricsAt, cancellation) : null;
            using var workers = new SlotWorkers(SlotWorkerCommand.StartInfo);
            using var host = NodeHosting.BuildHost(akka => akka.AddGpuNode(settings, nodeName, slotDevices, workers.Run, Console.WriteLine, progress, metrics));
            await host.StartAsync(cancellation);
            Console.WriteLine($"{nodeName}: {slotDevices.Count} slot(s) ({string.Join(", ", slotDevices)}), joining {string.Join(", ", seedNodes)}" +
                              (uplink is null ? "" : $"; metrics to {parse.GetValue(api)}") + (metricsAt > 0 ? $"; Prometheus metrics at :{metricsAt}/metrics" : ""));
            try { await Task.Delay(Timeout.Infinite, cancellation); }
            catch (OperationCanceledException) { }
            Console.WriteLine($"{nodeName}: leaving the cluster; running trials keep their last epoch's checkpoint.");
            await host.StopAsync(CancellationToken.None);
            return CommandLineRunner.Ok;
        });
        return command;
    }

    /// <summary>
    /// This node's /metrics (Kestrel, HTTP/1.1) on every interface and under any host name: Prometheus scrapes a pod
    /// by its IP, whatever name the node gave the cluster.
    /// </summary>
    static async Task<WebApplication> StartMetricsEndpoint(int port, CancellationToken cancellation)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenAnyIP(port, listen => listen.Protocols = HttpProtocols.Http1));
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter(NodeMetrics.MeterName).AddRuntimeInstrumentation().AddPrometheusExporter());
        var app = builder.Build();
        app.MapPrometheusScrapingEndpoint();
        try
        {
            await app.StartAsync(cancellation);
            return app;
        }
        catch (IOException e)
        {
            await app.DisposeAsync();
            throw new UserInputException($"--metrics-port {port}: cannot serve metrics there ({e.Message}); choose a free port.");
        }
    }

    static List<string> SlotDevices(string devices, int perDevice)
    {
        var list = devices switch
        {
            "auto" => cuda.is_available() ? Enumerable.Range(0, cuda.device_count()).Select(i => $"cuda:{i}").ToList() : ["cpu"],
            _ => devices.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList(),
        };
        foreach (var device in list) Distillation.Training.Devices.Resolve(device); // fails with a clear message on a bad name or a missing GPU
        return list.SelectMany(d => Enumerable.Repeat(d, perDevice)).ToList();
    }
}
