using System.CommandLine;
using Orchestrator.Coordinator.Cluster;
using Orchestrator.Coordinator.Sweeps;
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

    /// <summary>Prints each job as it finishes and the counts when they change, until the sweep completes; exit 1 when a job failed.</summary>
    public static async Task<int> FollowAsync(ApiClient client, string sweepId, CancellationToken cancellation)
    {
        var status = await SweepWatch.FollowLines(token => client.Call(options => client.Sweeps.GetAsync(new GetRequest { SweepId = sweepId }, options), token),
            sweepId, new SweepProgressView(), cancellation);
        if (SweepResults.Best(status) is { } best) Console.WriteLine(SweepWatch.BestLine(status, best));
        return status.Jobs.Any(j => j.State == SweepEntity.Failed) ? CommandLineRunner.TrialFailed : CommandLineRunner.Ok;
    }
}
