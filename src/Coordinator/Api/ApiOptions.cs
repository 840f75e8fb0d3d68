using Orchestrator.Distillation;

namespace Orchestrator.Coordinator.Api;

/// <summary>How the coordinator serves its gRPC API: the port, an optional bearer token, an optional TLS certificate (PEM), and how many events Watch streams can resume from.</summary>
/// <param name="MetricsPort">Where Prometheus scrapes /metrics (plain HTTP/1.1); 0: no metrics endpoint.</param>
/// <param name="Bind">The address both ports listen on (<see cref="Hosting.Listening.Listen"/>): --bind, else --hostname.</param>
/// <param name="HttpPort">Where the live sweep pages are served (<see cref="SweepPages"/>, HTTP/1.1, TLS with the API's certificate); 0: none.</param>
/// <param name="AllowedPaths">Folders (--allow-path) whose files submitted sweeps may name, besides the coordinator's own (<see cref="CoordinatorContext.ReadableRoots"/>).</param>
public sealed record ApiOptions(int Port, string? Token = null, string? CertificateFile = null, string? KeyFile = null, int WatchHistory = WatchHub.DefaultCapacity,
    int MetricsPort = 0, string Bind = "127.0.0.1", IReadOnlyList<string>? AllowedPaths = null, int HttpPort = 0)
{
    public const string TokenVariable = "ORCHESTRATOR_TOKEN";
    /// <summary>Requests larger than this are refused (RESOURCE_EXHAUSTED): a sweep file is a few kilobytes.</summary>
    public const int MaxRequestBytes = 4 * 1024 * 1024;
    /// <summary>Concurrent calls one HTTP/2 connection may hold open (Watch streams, mostly): 1,000, not Kestrel's 100.</summary>
    public const int MaxStreamsPerConnection = 1000;

    /// <summary>The token from a file (its first line), else from $ORCHESTRATOR_TOKEN, else none.</summary>
    public static string? ReadToken(string? tokenFile)
    {
        if (tokenFile is null) return Environment.GetEnvironmentVariable(TokenVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : null;
        if (!File.Exists(tokenFile)) throw new UserInputException($"--token-file {tokenFile}: file not found.");
        string token = File.ReadLines(tokenFile).FirstOrDefault()?.Trim() ?? "";
        return token.Length > 0 ? token : throw new UserInputException($"--token-file {tokenFile}: the file is empty; put the token on its first line.");
    }
}
