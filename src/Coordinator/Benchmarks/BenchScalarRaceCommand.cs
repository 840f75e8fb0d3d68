using System.CommandLine;
using System.Diagnostics;
using Orchestrator.Coordinator.Commands;
using static TorchSharp.torch;

namespace Orchestrator.Coordinator.Benchmarks;

/// <summary>
/// <c>orchestrator bench-scalar-race</c>: calls <c>t.add_(1e-8)</c> (an implicit TorchSharp Scalar, and a second one
/// for alpha inside) in a loop, allocating large arrays now and then as a checkpoint load does, optionally with a
/// second thread allocating, and reports whether a call read a Scalar that the finalizer had already freed. Why slots
/// train in worker processes without background GC (docs/cluster.md, "Slot workers"); run it again on a new TorchSharp.
/// <c>DOTNET_gcConcurrent=1</c> turns background GC back on for the run.
/// </summary>
public static class BenchScalarRaceCommand
{
    public static Command Create()
    {
        var seconds = new Option<int>("--seconds") { Description = "How long to call add_.", DefaultValueFactory = _ => 40 };
        var allocating = new Option<bool>("--allocating-thread") { Description = "A second thread allocates all along (what Akka, gRPC and other slots do in one process)." };
        var command = new Command("bench-scalar-race", "[benchmark] Check whether TorchSharp frees implicit Scalars while a native call reads them (see docs/cluster.md).") { seconds, allocating };
        command.SetAction(parse => Run(parse.GetValue(seconds), parse.GetValue(allocating)));
        return command;
    }

    static int Run(int seconds, bool allocatingThread)
    {
        bool background = System.Runtime.GCSettings.LatencyMode != System.Runtime.GCLatencyMode.Batch;
        Console.WriteLine($"add_(1e-8) for {seconds} s; background GC {(background ? "on" : "off")}; {(allocatingThread ? "a second thread allocating" : "one thread")}");
        using var stop = new CancellationTokenSource();
        var churn = new Thread(() =>
        {
            while (!stop.IsCancellationRequested) GC.KeepAlive(new object[64]);
        }) { IsBackground = true };
        if (allocatingThread) churn.Start();
        using var tensor = zeros(4);
        var held = new Queue<byte[]>();
        long calls = 0;
        var clock = Stopwatch.StartNew();
        try
        {
            while (clock.Elapsed.TotalSeconds < seconds)
            {
                tensor.add_(1e-8);
                if (++calls % 200 == 0)
                {
                    held.Enqueue(new byte[4 << 20]); // large-object-heap allocations start the collections a checkpoint load would
                    if (held.Count > 20) held.Dequeue();
                }
            }
            Console.WriteLine($"no failure in {calls:N0} calls ({GC.CollectionCount(2)} gen-2 collections)");
            return CommandLineRunner.Ok;
        }
        catch (Exception e)
        {
            Console.WriteLine($"failed after {calls:N0} calls ({GC.CollectionCount(2)} gen-2 collections): {e.Message.Split('\n')[0]}");
            return CommandLineRunner.TrialFailed;
        }
        finally
        {
            stop.Cancel();
        }
    }
}
