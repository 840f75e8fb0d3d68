using System.CommandLine;
using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.Commands;

/// <summary><c>orchestrator retry &lt;sweep&gt; [--failed]</c>: runs a sweep's failed trials again on a running coordinator, its finished results kept.</summary>
public static class RetryCommand
{
    public static Command Create()
    {
        var sweep = new Argument<string>("sweep") { Description = "The sweep's name." };
        var failed = new Option<bool>("--failed")
        {
            Description = "Every failed trial, its own failures too (a NaN loss, say: it fails the same unless you changed something it reads).",
        };
        var api = new ApiClientFlags();
        var command = new Command("retry", "Run again the trials the machine failed (a full disk, I/O errors, memory) and those that failed with them; finished results stay.")
        {
            sweep, failed,
        };
        api.AddTo(command);
        command.SetAction(async (parse, cancellation) =>
        {
            using var client = api.Connect(parse);
            var request = new RetryRequest { SweepId = parse.GetRequiredValue(sweep), Failed = parse.GetValue(failed) };
            var response = await client.Call(options => client.Sweeps.RetryAsync(request, options), cancellation);
            Console.WriteLine(response.Retried > 0
                ? $"{response.SweepId}: {response.Retried} failed job(s) queued again; its results are written again when it completes."
                : $"{response.SweepId}: no {(request.Failed ? "" : "machine-caused ")}failure to retry{(request.Failed ? "" : " (--failed retries the trials' own failures too)")}.");
            return CommandLineRunner.Ok;
        });
        return command;
    }
}
