using Grpc.Core;

namespace Orchestrator.Coordinator.Api;

/// <summary>
/// Times every call of every service (health and reflection included) and records it with its service, method and
/// final status code. Registered globally, so it runs before the token check and counts refused calls too.
/// </summary>
public sealed class GrpcMetricsInterceptor(CoordinatorMetrics metrics) : CallInterceptor
{
    protected override async Task<T> Around<T>(ServerCallContext context, Func<Task<T>> call)
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
            code = StatusCode.Unknown; // how grpc-dotnet reports an unhandled exception (UnexpectedErrorInterceptor, inside, leaves none)
            throw;
        }
        finally
        {
            metrics.GrpcCall(context.Method, code, System.Diagnostics.Stopwatch.GetElapsedTime(start));
        }
    }
}
