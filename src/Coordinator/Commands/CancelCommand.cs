using System.CommandLine;
using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.Commands;

/// <summary><c>orchestrator cancel &lt;sweep&gt;</c>: stops a sweep on a running coordinator; submitting it again resumes it.</summary>
public static class CancelCommand
{
    public static Command Create()
    {
        var sweep = new Argument<string>("sweep") { Description = "The sweep's name." };
        var reason = new Option<string?>("--reason") { Description = "Recorded with the sweep (default: who cancelled it)." };
        var api = new ApiClientFlags();
        var command = new Command("cancel", "Cancel a sweep: drop its queued jobs and stop its running ones (they keep their last checkpoint).")
        {
            sweep, reason,
        };
        api.AddTo(command);
        command.SetAction(async (parse, cancellation) =>
        {
            using var client = api.Connect(parse);
            var request = new CancelRequest { SweepId = parse.GetRequiredValue(sweep), Reason = parse.GetValue(reason) ?? $"cancelled by {Environment.UserName} with orchestrator cancel" };
            var response = await client.Call(options => client.Sweeps.CancelAsync(request, options), cancellation);
            Console.WriteLine(response.WasRunning
                ? $"{response.SweepId}: cancelled {response.Cancelled} unfinished job(s); finished results stay. Submit the same sweep again to resume it."
                : $"{response.SweepId}: had already completed; nothing to cancel.");
            return CommandLineRunner.Ok;
        });
        return command;
    }
}
