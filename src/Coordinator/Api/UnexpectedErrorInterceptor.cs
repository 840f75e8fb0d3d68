using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace Orchestrator.Coordinator.Api;

/// <summary>
/// No call ends in UNKNOWN ("Exception was thrown by handler", which tells a client nothing): an exception a service
/// did not turn into a status is logged with its stack and answered INTERNAL with its type and message.
/// </summary>
public sealed class UnexpectedErrorInterceptor(ILogger<UnexpectedErrorInterceptor> log) : CallInterceptor
{
    protected override async Task<T> Around<T>(ServerCallContext context, Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (Exception e) when (e is not RpcException && !context.CancellationToken.IsCancellationRequested)
        {
            log.LogError(e, "{Method} failed on a request from {Peer}", context.Method, context.Peer);
            throw new RpcException(new Status(StatusCode.Internal, $"the coordinator failed on this request ({e.GetType().Name}: {e.Message}); its log has the details"));
        }
    }
}
