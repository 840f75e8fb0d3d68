using System.CommandLine;
using Orchestrator.Distillation;
using Orchestrator.GpuNode;
using Orchestrator.Hosting;

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
        var bind = ClusterFlags.Bind("/metrics (with --metrics-port)");
        var port = ClusterFlags.Port(fallback: 0);
        var devices = new Option<string>("--devices") { Description = "auto (every GPU, else the CPU) | cpu | cuda:0,cuda:1,...", DefaultValueFactory = _ => "auto" };
        var slots = new Option<int>("--slots-per-device") { Description = "Concurrent trials per device.", DefaultValueFactory = _ => 1 };
        var packCapacity = new Option<int>("--pack-capacity")
        {
            Description = $"The most compatible trials one slot trains as one pack (1: one at a time; a sweep's execution.pack sets its own limit).",
            DefaultValueFactory = _ => Distillation.Training.PackSizing.Max,
        };
        var name = new Option<string?>("--name") { Description = "This node's name in logs and results (default: machine name and process id)." };
        var api = new Option<string?>("--api")
        {
            Description = "The coordinator's gRPC API, e.g. http://coordinator:50051 ($ORCHESTRATOR_API): metrics go there over one stream; " +
                          "without it, over the cluster.",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("ORCHESTRATOR_API"),
        };
        var token = ApiFlags.TokenFile();
        var metricsPort = ClusterFlags.MetricsPort();
        var dataDir = new DataDirOption();
        var command = new Command("gpunode", "Join a cluster as a GPU node and run the trials its scheduler hands out, until stopped.")
        {
            seeds, hostname, bind, port, devices, slots, packCapacity, name, api, token, metricsPort, dataDir,
        };
        command.SetAction(async (parse, cancellation) =>
        {
            dataDir.Apply(parse);
            var seedNodes = parse.GetRequiredValue(seeds);
            if (seedNodes.Length == 0) throw new UserInputException("--seed-nodes: give the coordinator's address, e.g. akka.tcp://orchestrator@127.0.0.1:4053.");
            var slotDevices = GpuNodeOptions.Slots(parse.GetRequiredValue(devices), parse.GetValue(slots));
            int capacity = parse.GetValue(packCapacity);
            if (capacity is < 1 or > Distillation.Training.PackSizing.Max)
                throw new UserInputException($"--pack-capacity {capacity}: give a number of trials from 1 to {Distillation.Training.PackSizing.Max}.");
            string nodeName = parse.GetValue(name) ?? $"{Environment.MachineName}-{Environment.ProcessId}";
            string? endpoint = parse.GetValue(api) is { } given ? ApiClient.CheckEndpoint(given, "--api") : null;
            var options = new GpuNodeOptions(new NodeSettings(parse.GetRequiredValue(hostname), parse.GetValue(port), [NodeSettings.GpuRole], seedNodes),
                nodeName, slotDevices, endpoint, Api.ApiOptions.ReadToken(parse.GetValue(token)?.FullName), parse.GetValue(metricsPort),
                ClusterFlags.BindAddress(parse, bind, hostname), capacity);

            await GpuNodeHost.RunAsync(options, cancellation);
            return CommandLineRunner.Ok;
        });
        return command;
    }
}
