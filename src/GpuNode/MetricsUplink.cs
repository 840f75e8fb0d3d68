using System.Threading.Channels;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using Orchestrator.Protocol.V1;

namespace Orchestrator.GpuNode;

/// <summary>
/// Sends a node's job progress to the coordinator's Metrics service over one client stream, in batches, off the
/// cluster's control channel. Training never waits for it: points go into a bounded queue (when the coordinator is
/// unreachable for long, the oldest are dropped; every trial's metrics.jsonl keeps them all), and a broken stream is
/// opened again after a second.
/// </summary>
public sealed class MetricsUplink : IAsyncDisposable
{
    const int QueueCapacity = 50_000, MaxBatch = 1_000;
    readonly Channel<JobProgress> queue = Channel.CreateBounded<JobProgress>(new BoundedChannelOptions(QueueCapacity) { FullMode = BoundedChannelFullMode.DropOldest });
    readonly GrpcChannel channel;
    readonly Metadata headers = [];
    readonly CancellationTokenSource stopping = new();
    readonly Task pump;

    public MetricsUplink(string endpoint, string? token, string node, ILogger<MetricsUplink> log)
    {
        channel = GrpcChannel.ForAddress(endpoint);
        if (token is not null) headers.Add("authorization", $"Bearer {token}");
        var client = new Metrics.MetricsClient(channel);
        pump = Task.Run(() => Pump(client, node, log));
    }

    /// <summary>Queues a point; never blocks.</summary>
    public void Post(JobProgress point) => queue.Writer.TryWrite(point);

    async Task Pump(Metrics.MetricsClient client, string node, ILogger log)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                using var call = client.Ingest(headers, cancellationToken: stopping.Token);
                while (await queue.Reader.WaitToReadAsync(stopping.Token))
                {
                    var batch = new MetricBatch { Node = node };
                    while (batch.Points.Count < MaxBatch && queue.Reader.TryRead(out var point)) batch.Points.Add(point);
                    await call.RequestStream.WriteAsync(batch, stopping.Token);
                }
                await call.RequestStream.CompleteAsync();
                await call;
                return; // the queue was completed: the node is stopping
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (RpcException e)
            {
                log.LogWarning("{Node}: metrics stream to the coordinator broke ({Code}: {Detail}); reopening it", node, e.StatusCode, e.Status.Detail);
                await Task.Delay(TimeSpan.FromSeconds(1), stopping.Token).ContinueWith(_ => { });
            }
            catch (Exception e)
            {
                // Anything else is a bug here, not the network's; the stream is still worth reopening rather than losing every later point.
                log.LogError(e, "{Node}: metrics stream to the coordinator failed; reopening it", node);
                await Task.Delay(TimeSpan.FromSeconds(1), stopping.Token).ContinueWith(_ => { });
            }
        }
    }

    /// <summary>Sends what is queued (for up to 5 seconds), then closes the stream.</summary>
    public async ValueTask DisposeAsync()
    {
        queue.Writer.TryComplete();
        if (await Task.WhenAny(pump, Task.Delay(TimeSpan.FromSeconds(5))) != pump) await stopping.CancelAsync();
        await pump.ContinueWith(_ => { });
        stopping.Dispose();
        channel.Dispose();
    }
}
