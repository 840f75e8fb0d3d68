using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orchestrator.Coordinator.Cluster;
using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.Api;

/// <summary>Reads every sweep's counts and best point every few seconds for the gauges (sweeps and jobs by state, best metric per sweep): no jobs are copied.</summary>
/// <remarks>The coordinator context is resolved once the host runs: hosted services are built before the actor system starts.</remarks>
public sealed class SweepGauges(IServiceProvider services, CoordinatorMetrics metrics, ILogger<SweepGauges> log) : BackgroundService
{
    static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        await Task.Delay(Interval, stopping).ContinueWith(_ => { });
        if (stopping.IsCancellationRequested) return;
        var coordinator = services.GetRequiredService<CoordinatorContext>();
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                var statuses = new List<SweepStatus>();
                foreach (string id in await coordinator.SweepIds(stopping))
                    statuses.Add(await SweepRegion.Summary(coordinator.Sweeps, id, stopping));
                metrics.SweepsChanged(statuses);
            }
            catch (Exception e) when (e is Akka.Actor.AskTimeoutException or TimeoutException)
            {
                // The coordinator is busy or still starting: keep the last values and try again.
            }
            catch (Exception e) when (!stopping.IsCancellationRequested)
            {
                log.LogError(e, "Reading the sweeps for the gauges failed; keeping the last values and trying again");
            }
            await Task.Delay(Interval, stopping).ContinueWith(_ => { });
        }
    }
}
