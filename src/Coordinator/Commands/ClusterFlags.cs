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

    /// <summary>--bind: where the HTTP ports (the coordinator's gRPC API, /metrics) listen; <see cref="BindAddress"/> gives its value.</summary>
    /// <param name="serves">What listens there, in the help: the coordinator serves its API and /metrics, a GPU node /metrics only.</param>
    public static Option<string?> Bind(string serves) => new("--bind")
    {
        Description = $"Address {serves} listen(s) on ($ORCHESTRATOR_BIND; default: --hostname; 0.0.0.0: every interface).",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("ORCHESTRATOR_BIND"),
    };

    /// <summary>--bind if given, else --hostname: a process reached at 127.0.0.1 (the default) serves nothing beyond this machine.</summary>
    public static string BindAddress(System.CommandLine.ParseResult parse, Option<string?> bind, Option<string> hostname) =>
        parse.GetValue(bind) is { Length: > 0 } address ? address : parse.GetRequiredValue(hostname);

    public static Option<int> Port(int fallback) => new("--port")
    {
        Description = $"Akka.Remote port ($ORCHESTRATOR_PORT; 0 picks a free one; default {fallback}).",
        DefaultValueFactory = _ => IntFromEnvironment("ORCHESTRATOR_PORT", fallback),
    };

    /// <summary>The whole number in an environment variable, else <paramref name="fallback"/>: the default of a port flag.</summary>
    public static int IntFromEnvironment(string variable, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(variable), out int value) ? value : fallback;

    /// <summary>--metrics-port of the coordinator and of GPU nodes: where Prometheus scrapes this process.</summary>
    public static Option<int> MetricsPort() => new("--metrics-port")
    {
        Description = "Serve this process's Prometheus metrics at http://<--hostname>:<port>/metrics ($ORCHESTRATOR_METRICS_PORT; 0: none).",
        DefaultValueFactory = _ => IntFromEnvironment("ORCHESTRATOR_METRICS_PORT", 0),
    };

    public static Option<int> HttpPort() => new("--http-port")
    {
        Description = "Serve live sweep pages at http://<host>:<port>/ (an index of sweeps, and each sweep's report updating as it runs; behind the API token " +
                      "when one is set) ($ORCHESTRATOR_HTTP_PORT; 0: none).",
        DefaultValueFactory = _ => IntFromEnvironment("ORCHESTRATOR_HTTP_PORT", 0),
    };

    public static string Address(string hostname, int port) => $"akka.tcp://{Hosting.NodeSettings.SystemName}@{hostname}:{port}";
}
