using System.CommandLine;
using Orchestrator.Coordinator.Results;
using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.Commands;

/// <summary><c>orchestrator status [&lt;sweep&gt;]</c>: the sweeps of a running coordinator, or one sweep's jobs by state.</summary>
public static class StatusCommand
{
    public static Command Create()
    {
        var sweep = new Argument<string?>("sweep") { Description = "A sweep's name; without it, every sweep.", Arity = ArgumentArity.ZeroOrOne };
        var api = new ApiClientFlags();
        var command = new Command("status", "Show a running coordinator's GPU nodes and sweeps; given a sweep's name (optional), that sweep's jobs by kind and state.") { sweep };
        api.AddTo(command);
        command.SetAction(async (parse, cancellation) =>
        {
            using var client = api.Connect(parse);
            if (parse.GetValue(sweep) is { } id)
            {
                var status = await client.Call(options => client.Sweeps.GetAsync(new GetRequest { SweepId = id, PageSize = 1 }, options), cancellation);
                Console.WriteLine($"{id}: {State(status.Complete, status.Cancelled)}, {status.TotalJobs} job(s){(status.Cancelled ? $" ({status.CancelReason})" : "")}");
                Console.WriteLine("| kind | queued | running | done | failed | cancelled | stopped |");
                Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
                foreach (string kind in SweepResults.KindNames.Values)
                {
                    if (!status.CountsByKind.TryGetValue(kind, out var c) || c.Queued + c.Running + c.Done + c.Failed + c.Cancelled + c.Stopped == 0) continue;
                    Console.WriteLine($"| {kind} | {c.Queued} | {c.Running} | {c.Done} | {c.Failed} | {c.Cancelled} | {c.Stopped} |");
                }
                if (status.Best is { } best) Console.WriteLine(SweepResults.BestLine(status, SweepResults.Recipe.FromProto(best)));
                foreach (string line in SweepResults.FrontLines(status)) Console.WriteLine(line);
                return CommandLineRunner.Ok;
            }
            var list = await client.Call(options => client.Sweeps.ListAsync(new ListRequest(), options), cancellation);
            if (list.Nodes.Count == 0)
                Console.WriteLine("no GPU node has joined; start one with: orchestrator gpunode --seed-nodes <this coordinator's address>");
            else
            {
                Console.WriteLine("| GPU node | free slots | running trials |");
                Console.WriteLine("|---|---:|---:|");
                foreach (var n in list.Nodes) Console.WriteLine($"| {n.Node} | {n.FreeSlots} | {n.RunningTrials} |");
            }
            if (list.Sweeps.Count == 0)
            {
                Console.WriteLine("no sweeps yet; submit one with: orchestrator submit <sweep.yaml>");
                return CommandLineRunner.Ok;
            }
            Console.WriteLine("| sweep | state | jobs | queued | running | done | failed | cancelled | stopped | best |");
            Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var s in list.Sweeps)
                Console.WriteLine($"| {s.SweepId} | {State(s.Complete, s.CancelledSweep)} | {s.Jobs} | {s.Queued} | {s.Running} | {s.Done} | {s.Failed} | {s.Cancelled} | {s.Stopped} | " +
                                  $"{(s.HasBestMetric ? $"{s.Metric} {SweepResults.FormatMetric(s.Metric, s.BestMetric)}" : "")} |");
            return CommandLineRunner.Ok;
        });
        return command;
    }

    static string State(bool complete, bool cancelled) => cancelled ? "cancelled" : complete ? "complete" : "running";
}
