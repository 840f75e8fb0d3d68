using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.Client;
using Orchestrator.Coordinator.Api;
using Orchestrator.Distillation;
using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.Commands;

/// <summary>The coordinator could not be reached (down, wrong address, or too slow): exit code 3.</summary>
public sealed class CoordinatorUnreachableException(string message) : Exception(message);

/// <summary>
/// A client of a coordinator's gRPC API for the CLI: the token on every call, a deadline on every call, and errors
/// turned into what a user can act on (bad input: exit 2; unreachable: exit 3).
/// </summary>
public sealed class ApiClient : IDisposable
{
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    readonly GrpcChannel channel;
    readonly Metadata headers = [];
    readonly string endpoint;

    ApiClient(string endpoint, string? token, X509Certificate2? trusted)
    {
        this.endpoint = endpoint;
        var options = new GrpcChannelOptions { MaxReceiveMessageSize = 64 * 1024 * 1024 };
        if (trusted is not null)
            options.HttpHandler = new SocketsHttpHandler
            {
                SslOptions = { RemoteCertificateValidationCallback = (_, certificate, _, errors) => IsTrusted(certificate, errors, trusted) },
            };
        channel = GrpcChannel.ForAddress(endpoint, options);
        if (token is not null) headers.Add("authorization", $"Bearer {token}");
        Sweeps = new Protocol.V1.Sweeps.SweepsClient(channel);
    }

    public Protocol.V1.Sweeps.SweepsClient Sweeps { get; }

    public static ApiClient Connect(string endpoint, FileInfo? tokenFile, FileInfo? caFile = null)
    {
        if (caFile is not null && !caFile.Exists) throw new UserInputException($"--ca-file {caFile.FullName}: file not found.");
        return new ApiClient(CheckEndpoint(endpoint, "--endpoint"), ApiOptions.ReadToken(tokenFile?.FullName),
            caFile is null ? null : X509Certificate2.CreateFromPem(File.ReadAllText(caFile.FullName)));
    }

    /// <summary>A server certificate for the endpoint's name that chains to <paramref name="trusted"/> (and nothing else).</summary>
    static bool IsTrusted(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2 trusted)
    {
        if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch) || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
            return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(trusted);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(new X509Certificate2(certificate));
    }

    /// <summary>The endpoint, if it is an http(s) URL; else a clear error naming <paramref name="flag"/>.</summary>
    public static string CheckEndpoint(string endpoint, string flag) =>
        Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? endpoint
            : throw new UserInputException($"{flag} {endpoint}: expected a URL such as http://127.0.0.1:50051 (https:// when the coordinator serves TLS).");

    /// <summary>Runs one call with the token and a deadline; maps its failure to what the user should do.</summary>
    public async Task<T> Call<T>(Func<CallOptions, AsyncUnaryCall<T>> call, CancellationToken cancellation)
    {
        try
        {
            return await call(new CallOptions(headers, DateTime.UtcNow + Deadline, cancellation));
        }
        catch (RpcException e)
        {
            throw Translate(e);
        }
    }

    /// <summary>Options for a stream: the token, no deadline (a watch lasts as long as its sweep).</summary>
    public CallOptions StreamOptions(CancellationToken cancellation) => new(headers, cancellationToken: cancellation);

    /// <summary>Whether a failed call is worth repeating (the connection dropped, the coordinator is restarting).</summary>
    public static bool IsTransient(RpcException e) => e.StatusCode is StatusCode.Unavailable or StatusCode.Internal or StatusCode.Unknown;

    /// <summary>What a failed call means to the user: bad input (exit 2), or an unreachable coordinator (exit 3); others as they are.</summary>
    public Exception Translate(RpcException e) => e.StatusCode switch
    {
        StatusCode.InvalidArgument or StatusCode.NotFound or StatusCode.FailedPrecondition => new UserInputException(e.Status.Detail),
        StatusCode.Unauthenticated => new UserInputException($"{endpoint}: {e.Status.Detail}"),
        StatusCode.ResourceExhausted => new UserInputException($"{e.Status.Detail} (the coordinator takes requests of up to {ApiOptions.MaxRequestBytes / 1048576} MiB)"),
        StatusCode.Unavailable or StatusCode.DeadlineExceeded => Unreachable(e),
        // A connection that fails below gRPC (e.g. plaintext to a TLS port) surfaces as INTERNAL with the transport's exception.
        StatusCode.Internal or StatusCode.Unknown when e.Status.DebugException is HttpRequestException or IOException => Unreachable(e),
        _ => e,
    };

    CoordinatorUnreachableException Unreachable(RpcException e) => new(
        $"cannot reach the coordinator at {endpoint} ({e.Status.Detail}{(e.Status.DebugException?.InnerException?.Message is { } cause ? $": {cause}" : "")}); " +
        "is `orchestrator serve` running there, is --endpoint (or $ORCHESTRATOR_ENDPOINT) right, and for https:// with a private certificate, --ca-file?");

    public void Dispose() => channel.Dispose();
}
