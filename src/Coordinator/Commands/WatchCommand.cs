using System.CommandLine;
using System.Threading.Channels;
using Grpc.Core;
using Orchestrator.Coordinator.Results;
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
    /// as <c>local</c> (each slot's job, epoch and accuracy); otherwise the counts and a line per job as it finishes.
    /// A dropped connection is resumed after the last cursor received, so nothing is missed or shown twice. Exit 1
    /// when a job failed.
    /// </summary>
    public static async Task<int> FollowAsync(ApiClient client, string sweepId, CancellationToken cancellation)
    {
        bool live = AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected;
        var events = Channel.CreateBounded<WatchEvent>(new BoundedChannelOptions(10_000) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        var reading = Stream(client, sweepId, events.Writer, stop.Token);
        string end;
        try
        {
            end = await new SweepProgressView().ShowAsync(events.Reader, live, cancellation);
        }
        finally
        {
            await stop.CancelAsync();
            await reading;
        }
        return await Finish(client, sweepId, end, cancellation);
    }

    const int ReconnectAttempts = 30;

    /// <summary>
    /// Writes the stream's events into <paramref name="events"/> until cancelled, reconnecting after the last cursor
    /// when it breaks; completes the channel with the error that ended it.
    /// </summary>
    static async Task Stream(ApiClient client, string sweepId, ChannelWriter<WatchEvent> events, CancellationToken cancellation)
    {
        long cursor = 0;
        try
        {
            for (int attempt = 1; ; attempt++)
            {
                try
                {
                    using var call = client.Sweeps.Watch(new WatchRequest { SweepId = sweepId, AfterCursor = cursor }, client.StreamOptions(cancellation));
                    await foreach (var watchEvent in call.ResponseStream.ReadAllAsync(cancellation))
                    {
                        await events.WriteAsync(watchEvent, cancellation);
                        cursor = watchEvent.Cursor;
                        attempt = 1;
                    }
                }
                catch (RpcException e) when (ApiClient.IsTransient(e) && attempt < ReconnectAttempts && !cancellation.IsCancellationRequested)
                {
                    Console.Error.WriteLine($"{sweepId}: the watch stream broke ({e.Status.Detail}); reconnecting after cursor {cursor}");
                    await Task.Delay(TimeSpan.FromSeconds(1), cancellation);
                }
            }
        }
        catch (Exception) when (cancellation.IsCancellationRequested)
        {
            events.TryComplete();
        }
        catch (RpcException e)
        {
            events.TryComplete(client.Translate(e));
        }
        catch (Exception e)
        {
            events.TryComplete(e);
        }
    }

    static async Task<int> Finish(ApiClient client, string sweepId, string state, CancellationToken cancellation)
    {
        var status = await client.Call(options => client.Sweeps.GetAsync(new GetRequest { SweepId = sweepId }, options), cancellation);
        var counts = status.Counts ?? new JobCounts();
        Console.WriteLine($"{sweepId}: {state}; {SweepProgressView.Counts(counts, status.TotalJobs)}");
        if (status.Best is { } best) Console.WriteLine(SweepResults.BestLine(status, SweepResults.Recipe.FromProto(best)));
        return counts.Failed > 0 ? CommandLineRunner.TrialFailed : state == "cancelled" ? CommandLineRunner.Cancelled : CommandLineRunner.Ok;
    }
}
