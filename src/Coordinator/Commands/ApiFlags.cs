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
}

/// <summary>The flags of every client command of the API (endpoint, token, trusted CA), and the client they make.</summary>
public sealed class ApiClientFlags
{
    readonly Option<string> endpoint = new("--endpoint")
    {
        Description = "The coordinator's gRPC API ($ORCHESTRATOR_ENDPOINT; default http://127.0.0.1:50051; https:// for TLS).",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("ORCHESTRATOR_ENDPOINT") ?? "http://127.0.0.1:50051",
    };
    readonly Option<FileInfo?> tokenFile = ApiFlags.TokenFile();
    readonly Option<FileInfo?> caFile = new("--ca-file")
    {
        Description = "Trust an https:// coordinator whose certificate this PEM file signed (a private CA, or a self-signed certificate itself).",
    };

    /// <summary>Adds the flags to <paramref name="command"/> and returns it.</summary>
    public Command AddTo(Command command)
    {
        command.Options.Add(endpoint);
        command.Options.Add(tokenFile);
        command.Options.Add(caFile);
        return command;
    }

    public ApiClient Connect(ParseResult parse) => ApiClient.Connect(parse.GetRequiredValue(endpoint), parse.GetValue(tokenFile), parse.GetValue(caFile));
}
