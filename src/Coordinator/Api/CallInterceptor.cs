using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Orchestrator.Coordinator.Api;

/// <summary>An interceptor that wraps every kind of server call (unary and streaming) in the same <see cref="Around{T}"/>.</summary>
public abstract class CallInterceptor : Interceptor
{
    protected abstract Task<T> Around<T>(ServerCallContext context, Func<Task<T>> call);

    async Task Around(ServerCallContext context, Func<Task> call) => await Around(context, async () => { await call(); return true; });

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation) =>
        Around(context, () => continuation(request, context));

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation) =>
        Around(context, () => continuation(request, responseStream, context));

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context,
        ClientStreamingServerMethod<TRequest, TResponse> continuation) =>
        Around(context, () => continuation(requestStream, context));

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation) =>
        Around(context, () => continuation(requestStream, responseStream, context));
}
