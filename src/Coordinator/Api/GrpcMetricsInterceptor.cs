using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Orchestrator.Coordinator.Api;

/// <summary>
/// Times every call of every service (health and reflection included) and records it with its service, method and
/// final status code. Registered globally, so it runs before the token check and counts refused calls too.
/// </summary>
public sealed class GrpcMetricsInterceptor(CoordinatorMetrics metrics) : Interceptor
{
    async Task<T> Measure<T>(ServerCallContext context, Func<Task<T>> call)
    {
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        var code = StatusCode.OK;
        try
        {
            var result = await call();
            code = context.Status.StatusCode;
            return result;
        }
        catch (RpcException failure)
        {
            code = failure.StatusCode;
            throw;
        }
        catch (Exception) when (context.CancellationToken.IsCancellationRequested)
        {
            code = StatusCode.Cancelled; // the client went away or its deadline passed
            throw;
        }
        catch (Exception)
        {
            code = StatusCode.Unknown; // how grpc-dotnet reports an unhandled exception to the client
            throw;
        }
        finally
        {
            metrics.GrpcCall(context.Method, code, System.Diagnostics.Stopwatch.GetElapsedTime(start));
        }
    }

    async Task Measure(ServerCallContext context, Func<Task> call) => await Measure(context, async () => { await call(); return true; });

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation) =>
        Measure(context, () => continuation(request, context));

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation) =>
        Measure(context, () => continuation(request, responseStream, context));

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context,
        ClientStreamingServerMethod<TRequest, TResponse> continuation) =>
        Measure(context, () => continuation(requestStream, context));

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation) =>
        Measure(context, () => continuation(requestStream, responseStream, context));
}
