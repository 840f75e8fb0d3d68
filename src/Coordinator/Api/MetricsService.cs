using Akka.Actor;
using Grpc.Core;
using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.Api;

/// <summary>
/// The Metrics gRPC service: each GPU node's client stream of metric batches, applied as they arrive, and each epoch
/// told to its sweep (early termination decides on them).
/// </summary>
public sealed class MetricsService(MetricsSink sink, CoordinatorContext coordinator) : Metrics.MetricsBase
{
    public override async Task<IngestSummary> Ingest(IAsyncStreamReader<MetricBatch> batches, ServerCallContext context)
    {
        var summary = new IngestSummary();
        await foreach (var batch in batches.ReadAllAsync(context.CancellationToken))
        {
            sink.Apply(batch.Points);
            foreach (var point in batch.Points) coordinator.Sweeps.Tell(point);
            summary.Batches++;
            summary.Points += batch.Points.Count;
        }
        return summary;
    }
}
