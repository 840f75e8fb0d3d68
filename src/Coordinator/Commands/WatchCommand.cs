using System.CommandLine;
using Grpc.Core;
using Orchestrator.Coordinator.Cluster;
using Orchestrator.Coordinator.Sweeps;
using Orchestrator.Protocol.V1;
using Spectre.Console;

namespace Orchestrator.Coordinator.Commands;

/// <summary><c>orchestrator watch &lt;sweep&gt;</c>: follows a sweep on a running coordinator until it completes.</summary>
public static class WatchCommand
{
    public static Command Create()
    {
        var sweep = new Argument<string>("sweep") { Description = "The sweep's name." };
        var api = new ApiClientFlags();
        var command = new Command("watch", "Follow a sweep on a running coordinator: each job as it finishes, then the best recipe.") { sweep };
        api.AddTo(command);
        command.SetAction(async (parse, cancellation) =>
        {
            using var client = api.Connect(parse);
            return await FollowAsync(client, parse.GetRequiredValue(sweep), cancellation);
        });
        return command;
    }

    /// <summary>
    /// Follows the sweep's Watch stream until the sweep completes or is cancelled: on a terminal, the same live table
    /// as <c>local</c> (each slot's job, epoch and accuracy); otherwise a summary from the first snapshot, then a line
    /// per job as it finishes. A dropped connection is resumed after the last cursor received, so nothing is missed
    /// or shown twice. Exit 1 when a job failed.
    /// </summary>
    public static async Task<int> FollowAsync(ApiClient client, string sweepId, CancellationToken cancellation)
    {
        var view = new SweepProgressView();
        string end = "";
        if (AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected)
        {
            SweepStatus? status = null;
            await AnsiConsole.Live(new Text($"{sweepId}: connecting...")).StartAsync(async live => end = await Stream(client, sweepId, watchEvent =>
            {
                status = Apply(watchEvent, status, view);
                if (status is not null) live.UpdateTarget(view.Table(status));
                return Ends(watchEvent);
            }, cancellation));
        }
        else
        {
            end = await Stream(client, sweepId, watchEvent => Show(watchEvent, sweepId, view), cancellation);
        }
        return await Finish(client, sweepId, end, cancellation);
    }

    const int ReconnectAttempts = 30;

    /// <summary>Hands every event to <paramref name="handle"/> until it names how the sweep ended; reconnects after the last cursor when the stream breaks.</summary>
    static async Task<string> Stream(ApiClient client, string sweepId, Func<WatchEvent, string?> handle, CancellationToken cancellation)
    {
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
                    if (handle(watchEvent) is { } end) return end;
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

    /// <summary>How the sweep ended ("complete" or "cancelled") when the event says so.</summary>
    static string? Ends(WatchEvent watchEvent) => watchEvent.EventCase switch
    {
        WatchEvent.EventOneofCase.Snapshot when watchEvent.Snapshot.Complete => watchEvent.Snapshot.Cancelled ? "cancelled" : "complete",
        WatchEvent.EventOneofCase.Sweep when watchEvent.Sweep.State is "complete" or "cancelled" => watchEvent.Sweep.State,
        _ => null,
    };

    /// <summary>The sweep's state with the event applied (for the live table): snapshots replace it, job changes update it, metrics move the slots.</summary>
    static SweepStatus? Apply(WatchEvent watchEvent, SweepStatus? status, SweepProgressView view)
    {
        switch (watchEvent.EventCase)
        {
            case WatchEvent.EventOneofCase.Snapshot:
                return watchEvent.Snapshot;
            case WatchEvent.EventOneofCase.Job when status?.Jobs.FirstOrDefault(j => j.JobId == watchEvent.Job.JobId) is { } job:
                job.State = watchEvent.Job.State;
                if (watchEvent.Job.Summary is { } summary) job.Summary = summary;
                return status;
            case WatchEvent.EventOneofCase.Metrics:
                view.OnProgress(watchEvent.Metrics);
                return status;
            default:
                return status;
        }
    }

    /// <summary>Prints what the event says (line mode); returns how the sweep ended when it does.</summary>
    static string? Show(WatchEvent watchEvent, string sweepId, SweepProgressView view)
    {
        switch (watchEvent.EventCase)
        {
            case WatchEvent.EventOneofCase.Snapshot:
                foreach (string _ in view.NewlyFinished(watchEvent.Snapshot)) { } // finished before the watch began: counted in the summary, not listed
                Console.WriteLine($"{sweepId}: {view.Summary(watchEvent.Snapshot)}");
                break;
            case WatchEvent.EventOneofCase.Job when watchEvent.Job.State is JobStates.Done or JobStates.Failed:
                var job = watchEvent.Job;
                Console.WriteLine(JobLine.Of(new JobStatus
                {
                    JobId = job.JobId, Kind = job.Kind, State = job.State, Summary = job.Summary, Parameters = { job.Parameters }, Seed = job.Seed,
                }));
                break;
            case WatchEvent.EventOneofCase.FellBehind:
                Console.Error.WriteLine($"{sweepId}: {watchEvent.FellBehind.Reason}; continuing from the current state");
                break;
        }
        return Ends(watchEvent);
    }

    static async Task<int> Finish(ApiClient client, string sweepId, string state, CancellationToken cancellation)
    {
        var status = await client.Call(options => client.Sweeps.GetAsync(new GetRequest { SweepId = sweepId }, options), cancellation);
        Console.WriteLine($"{sweepId}: {state}; {new SweepProgressView().Summary(status).Split(';')[0]}");
        if (SweepResults.Best(status) is { } best) Console.WriteLine(SweepResults.BestLine(status, best));
        return status.Jobs.Any(j => j.State == JobStates.Failed) ? CommandLineRunner.TrialFailed
            : state == "cancelled" ? CommandLineRunner.Cancelled : CommandLineRunner.Ok;
    }
}
