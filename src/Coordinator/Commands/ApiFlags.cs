using System.CommandLine;
using Orchestrator.Coordinator.Api;

namespace Orchestrator.Coordinator.Commands;

/// <summary>Flags shared by the server and the clients of the gRPC API.</summary>
public static class ApiFlags
{
    public static Option<FileInfo?> TokenFile() => new("--token-file")
    {
        Description = $"A file whose first line is the API's bearer token (default ${ApiOptions.TokenVariable}; none: no token).",
    };

    public static Option<string> Endpoint() => new("--endpoint")
    {
        Description = "The coordinator's gRPC API ($ORCHESTRATOR_ENDPOINT; default http://127.0.0.1:50051; https:// for TLS).",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("ORCHESTRATOR_ENDPOINT") ?? "http://127.0.0.1:50051",
    };
}
