using System.CommandLine;

namespace Orchestrator.Coordinator.Commands;

/// <summary>Where a cluster process listens and whom it joins: flags, with environment variables as defaults (for Kubernetes).</summary>
public static class ClusterFlags
{
    public static Option<string> Hostname() => new("--hostname")
    {
        Description = "Address other members reach this process at ($ORCHESTRATOR_HOSTNAME).",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("ORCHESTRATOR_HOSTNAME") ?? "127.0.0.1",
    };

    public static Option<int> Port(int fallback) => new("--port")
    {
        Description = $"Akka.Remote port ($ORCHESTRATOR_PORT; 0 picks a free one; default {fallback}).",
        DefaultValueFactory = _ => int.TryParse(Environment.GetEnvironmentVariable("ORCHESTRATOR_PORT"), out int port) ? port : fallback,
    };

    public static string Address(string hostname, int port) => $"akka.tcp://{GpuNode.NodeSettings.SystemName}@{hostname}:{port}";
}
