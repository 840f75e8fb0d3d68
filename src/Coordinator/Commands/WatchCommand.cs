using System.CommandLine;
using Orchestrator.Coordinator.Cluster;
using Orchestrator.Coordinator.Sweeps;
using Grpc.Core;
using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.Commands;

/// <summary><c>orchestrator watch &lt;sweep&gt;</c>: follows a sweep on a running coordinator until it completes.</summary>
public static class WatchCommand
{
    public static Command Create()
    {
        var sweep = new Argument<string>("sweep") { Description = "The sweep's name." };
        var endpoint = ApiFlags.Endpoint();
        var token = ApiFlags.TokenFile();
        var command = new Command("watch", "Follow a sweep on a running coordinator: each job as it finishes, then the best recipe.") { sweep, endpoint, token };
        command.SetAction(async (parse, cancellation) =>
        {
            using var client = ApiClient.Connect(parse.GetRequiredValue(endpoint), parse.GetValue(token));
            return await FollowAsync(client, parse.GetRequiredValue(sweep), cancellation);
        });
        return command;
    }

    /// <summary>
    /// Follows the sweep's Watch stream: a summary from the first snapshot, then a line per job as it finishes, until
    /// the sweep completes or is cancelled; a dropped connection is resumed after the last cursor received, so no job is
    /// missed or printed twice. Exit 1 when a job failed.
    /// </summary>
    public static async Task<int> FollowAsync(ApiClient client, string sweepId, CancellationToken cancellation)
    {
        var view = new SweepProgressView();
        long cursor = 0;
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                using var call = client.Sweeps.Watch(new WatchRequest { SweepId = sweepId, AfterCursor = cursor }, client.StreamOptions(cancellation));
                await foreach (var watchEvent in call.ResponseStream.ReadAllAsync(cancellation))
                {
                    cursor = watchEvent.Cursor;
                    attempt = 1;
                    if (Show(watchEvent, sweepId, view) is { } finished) return await Finish(client, sweepId, finished, cancellation);
                }
            }
            catch (RpcException e) when (ApiClient.IsTransient(e) && attempt < ReconnectAttempts && !cancellation.IsCancellationRequested)
            {
                Console.Error.WriteLine($"{sweepId}: the watch stream broke ({e.Status.Detail}); reconnecting after cursor {cursor}");
                await Task.Delay(TimeSpan.FromSeconds(1), cancellation);
            }
            catch (RpcException e)
            {
                throw client.Translate(e);
            }
        }
    }

    const int ReconnectAttempts = 30;

    /// <summary>Prints what the event says; returns the sweep's final state ("complete" or "cancelled") when it ends the watch.</summary>
    static string? Show(WatchEvent watchEvent, string sweepId, SweepProgressView view)
    {
        switch (watchEvent.EventCase)
        {
            case WatchEvent.EventOneofCase.Snapshot:
                var status = watchEvent.Snapshot;
                foreach (string _ in view.NewlyFinished(status)) { } // finished before the watch began: counted in the summary, not listed
                Console.WriteLine($"{sweepId}: {view.Summary(status)}");
                return status.Complete ? status.Cancelled ? "cancelled" : "complete" : null;
            case WatchEvent.EventOneofCase.Job when watchEvent.Job.State is SweepEntity.Done or SweepEntity.Failed:
                var job = watchEvent.Job;
                Console.WriteLine(SweepProgressView.Line(new JobStatus
                {
                    JobId = job.JobId, Kind = job.Kind, State = job.State, Summary = job.Summary, Parameters = { job.Parameters }, Seed = job.Seed,
                }));
                return null;
            case WatchEvent.EventOneofCase.Sweep when watchEvent.Sweep.State is "complete" or "cancelled":
                return watchEvent.Sweep.State;
            case WatchEvent.EventOneofCase.FellBehind:
                Console.Error.WriteLine($"{sweepId}: {watchEvent.FellBehind.Reason}; continuing from the current state");
                return null;
            default:
                return null;
        }
    }

    static async Task<int> Finish(ApiClient client, string sweepId, string state, CancellationToken cancellation)
    {
        var status = await client.Call(options => client.Sweeps.GetAsync(new GetRequest { SweepId = sweepId }, options), cancellation);
        Console.WriteLine($"{sweepId}: {state}; {new SweepProgressView().Summary(status).Split(';')[0]}");
        if (SweepResults.Best(status) is { } best) Console.WriteLine(SweepWatch.BestLine(status, best));
        return status.Jobs.Any(j => j.State == SweepEntity.Failed) ? CommandLineRunner.TrialFailed
            : state == "cancelled" ? CommandLineRunner.Cancelled : CommandLineRunner.Ok;
    }
}
