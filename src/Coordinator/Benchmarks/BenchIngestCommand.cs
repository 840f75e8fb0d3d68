using System.CommandLine;
using System.Diagnostics;
using System.Net.Sockets;
using System.Net;
using Grpc.Core;
using Grpc.Net.Client;
using Orchestrator.Coordinator.Api;
using Orchestrator.Coordinator.Cluster;
using Orchestrator.Coordinator.Commands;
using Orchestrator.Hosting;
using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.Benchmarks;

/// <summary>
/// <c>orchestrator bench-ingest</c>: metric points per second that a coordinator ingests from N concurrent node
/// streams over loopback (real Kestrel, HTTP/2, protobuf), the latency from a point's ingest to a Watch stream
/// receiving it (p50/p99), and the process's memory over the run. The coordinator runs in this process, on free ports.
/// </summary>
public static class BenchIngestCommand
{
    public static Command Create()
    {
        var streams = new Option<int>("--streams") { Description = "Concurrent node streams.", DefaultValueFactory = _ => 4 };
        var seconds = new Option<int>("--seconds") { Description = "How long to push.", DefaultValueFactory = _ => 60 };
        var batch = new Option<int>("--batch") { Description = "Points per batch.", DefaultValueFactory = _ => 500 };
        var rate = new Option<int>("--rate") { Description = "Points per second in all (0: as fast as the coordinator takes them).", DefaultValueFactory = _ => 0 };
        var command = new Command("bench-ingest", "[benchmark] Measure metric ingest (points/s from N node streams), ingest-to-watcher latency and memory.") { streams, seconds, batch, rate };
        command.SetAction((parse, cancellation) => RunAsync(parse.GetValue(streams), parse.GetValue(seconds), parse.GetValue(batch), parse.GetValue(rate), cancellation));
        return command;
    }

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    static async Task<int> RunAsync(int streams, int seconds, int batchSize, int rate, CancellationToken cancellation)
    {
        if (streams < 1 || seconds < 1 || batchSize < 1) throw new Distillation.UserInputException("--streams, --seconds and --batch must be at least 1.");
        if (rate < 0) throw new Distillation.UserInputException("--rate must not be negative.");
        // At a given rate, each stream sends a batch every `interval` (in Stopwatch time, so delays do not accumulate).
        var interval = rate == 0 ? TimeSpan.Zero : TimeSpan.FromSeconds((double)batchSize * streams / rate);
        string directory = Directory.CreateTempSubdirectory("orchestrator-bench-ingest-").FullName;
        int akkaPort = FreePort(), grpcPort = FreePort();
        var node = new NodeSettings("127.0.0.1", akkaPort, [NodeSettings.CoordinatorRole], [ClusterFlags.Address("127.0.0.1", akkaPort)]);
        await using var server = CoordinatorServer.Build(ClusterSettings.Sqlite(Path.Combine(directory, "journal.db"), node), new ApiOptions(grpcPort),
            directory, Path.Combine(directory, "soft-targets"));
        await server.StartAsync(cancellation);
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{grpcPort}");

        using var run = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        var latencies = new List<long>();
        var watcher = Task.Run(() => Watch(channel, latencies, run.Token));
        var memory = new List<long>();
        var sampler = Task.Run(async () =>
        {
            while (!run.IsCancellationRequested)
            {
                memory.Add(Process.GetCurrentProcess().WorkingSet64);
                await Task.Delay(TimeSpan.FromSeconds(5), run.Token).ContinueWith(_ => { });
            }
        });
        var clock = Stopwatch.StartNew();
        using var pushing = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        pushing.CancelAfter(TimeSpan.FromSeconds(seconds));
        var senders = Enumerable.Range(0, streams).Select(i => Task.Run(() => Push(channel, $"bench-node-{i}", batchSize, interval, pushing.Token))).ToList();
        long points = (await Task.WhenAll(senders)).Sum();
        double elapsed = clock.Elapsed.TotalSeconds;
        await Task.Delay(500, cancellation); // the watcher drains what is in flight
        await run.CancelAsync();
        await Task.WhenAll(watcher, sampler);

        long[] sorted;
        lock (latencies) sorted = latencies.Order().ToArray();
        Console.WriteLine($"metric ingest over loopback: {streams} stream(s), batches of {batchSize}, {(rate == 0 ? "unpaced" : $"paced at {rate:N0} points/s")}, " +
                          $"{elapsed:F0} s, {Environment.ProcessorCount} cores");
        Console.WriteLine($"points ingested: {points:N0} = {points / elapsed:N0} points/s");
        Console.WriteLine(sorted.Length == 0 ? "watcher received nothing"
            : $"ingest -> watcher latency over {sorted.Length:N0} points: p50 {sorted[sorted.Length / 2]} ms, p99 {sorted[(int)(sorted.Length * 0.99)]} ms, max {sorted[^1]} ms");
        Console.WriteLine($"process working set every 5 s (MB): {string.Join(" ", memory.Select(m => (m / 1048576).ToString()))}");
        Console.WriteLine($"garbage collections: gen0 {GC.CollectionCount(0)}, gen1 {GC.CollectionCount(1)}, gen2 {GC.CollectionCount(2)}; " +
                          $"paused {GC.GetTotalPauseDuration().TotalMilliseconds:N0} ms in all ({(GC.GetGCMemoryInfo().Concurrent ? "concurrent" : "blocking")} GC)");
        await server.StopAsync(CancellationToken.None);
        Directory.Delete(directory, recursive: true);
        return CommandLineRunner.Ok;
    }

    /// <summary>One node's stream: batches of synthetic epoch points, one every <paramref name="interval"/> (zero: as fast as the server takes them); returns the points sent.</summary>
    static async Task<long> Push(GrpcChannel channel, string node, int batchSize, TimeSpan interval, CancellationToken stop)
    {
        var clock = Stopwatch.StartNew();
        var client = new Metrics.MetricsClient(channel);
        using var call = client.Ingest(cancellationToken: CancellationToken.None);
        long sent = 0;
        var batch = new MetricBatch { Node = node };
        for (int i = 0; i < batchSize; i++)
            batch.Points.Add(new JobProgress { SweepId = "bench", JobId = $"{node}-job-{i % 8}", Node = node, Slot = i % 8, Epochs = 100, Metrics = new EpochMetrics { Epoch = i, TrainLoss = 0.5, ValidationAccuracy = 0.9 } });
        for (long batches = 0; !stop.IsCancellationRequested; batches++)
        {
            var due = interval * batches - clock.Elapsed;
            if (due > TimeSpan.Zero) await Task.Delay(due, CancellationToken.None);
            await call.RequestStream.WriteAsync(batch, CancellationToken.None);
            sent += batchSize;
        }
        await call.RequestStream.CompleteAsync();
        var summary = await call;
        return summary.Points == sent ? sent : throw new InvalidOperationException($"{node}: sent {sent} points, the coordinator counted {summary.Points}");
    }

    /// <summary>A watcher of every sweep from now on: for each metrics event, how long after its ingest it arrived.</summary>
    static async Task Watch(GrpcChannel channel, List<long> latencies, CancellationToken stop)
    {
        var client = new Protocol.V1.Sweeps.SweepsClient(channel);
        try
        {
            using var call = client.Watch(new WatchRequest(), cancellationToken: stop);
            await foreach (var watchEvent in call.ResponseStream.ReadAllAsync(stop))
                if (watchEvent.EventCase == WatchEvent.EventOneofCase.Metrics)
                    lock (latencies) latencies.Add(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - watchEvent.UnixMs);
        }
        catch (RpcException) when (stop.IsCancellationRequested) { }
        catch (OperationCanceledException) { }
    }
}
