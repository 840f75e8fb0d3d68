using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Orchestrator.Coordinator.Api;

/// <summary>
/// With a token configured, refuses every call of the coordinator's services that lacks "authorization: Bearer
/// &lt;token&gt;" with UNAUTHENTICATED, before the call does anything. The health service is not intercepted, so
/// probes (Kubernetes, load balancers) need no secret.
/// </summary>
public sealed class BearerTokenInterceptor(ApiOptions options) : Interceptor
{
    readonly byte[]? expected = options.Token is { } token ? Encoding.UTF8.GetBytes($"Bearer {token}") : null;

    void Check(ServerCallContext context)
    {
        if (expected is null) return;
        string? given = context.RequestHeaders.GetValue("authorization");
        if (given is null || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), expected))
            throw new RpcException(new Status(StatusCode.Unauthenticated,
                given is null ? "this coordinator needs a token: pass --token-file or set ORCHESTRATOR_TOKEN." : "the token is not this coordinator's."));
    }

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(request, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(request, responseStream, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context,
        ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(requestStream, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(requestStream, responseStream, context);
    }
}
