using System.Globalization;
using Grpc.Core;
using Orchestrator.Coordinator.Cluster;
using Orchestrator.Coordinator.Planning;
using Orchestrator.Coordinator.Results;
using Orchestrator.Distillation.Configuration;
using Orchestrator.Distillation;
using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.Api;

/// <summary>
/// The Sweeps gRPC service (src/Protocol/protos/orchestrator/v1/sweeps.proto) over the sweep entities. Calls honour
/// their deadline and cancellation (they reach every Ask); bad input is INVALID_ARGUMENT with the file's positions.
/// </summary>
public sealed class SweepService(CoordinatorContext coordinator, SweepFollowers followers, WatchHub hub, MetricsSink metrics, CoordinatorMetrics instruments) : Protocol.V1.Sweeps.SweepsBase
{
    /// <summary>Jobs in a page of Get or Results (default, most), and in a snapshot_jobs event: a page of finished jobs is well under a default client's 4 MiB.</summary>
    const int DefaultPageSize = 100, MaxPageSize = 1000, SnapshotChunk = 1000, WatchBatch = 256;
    static readonly WriteOptions BufferedWrite = new(WriteFlags.BufferHint);

    public override async Task<SubmitResponse> Submit(SubmitRequest request, ServerCallContext context)
    {
        string fileName = string.IsNullOrWhiteSpace(request.FileName) ? "submitted-sweep.yaml" : request.FileName;
        string content = Utf8Text(request.Content, fileName);
        if (string.IsNullOrWhiteSpace(content)) throw Invalid("content is empty: send the sweep file's text.");
        SweepPlan plan;
        try
        {
            // A remote client names files on this machine: they are read only under the coordinator's roots.
            using var restricted = ReadableRoots.Restrict(coordinator.ReadableRoots);
            var sweep = SweepFile.Parse(content, Path.GetFullPath(fileName));
            plan = SweepPlanner.Plan(sweep, Path.Combine(coordinator.OutputDirectory, sweep.Name));
        }
        catch (PathNotAllowedException e)
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied, e.Message));
        }
        catch (UserInputException e)
        {
            throw Invalid(e.Message);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Invalid($"{fileName}: reading a file it names failed: {e.Message}");
        }
        var accepted = await SweepRegion.Submit(coordinator.Sweeps, plan, coordinator.SoftTargetStore,
            rejected => new RpcException(new Status(StatusCode.FailedPrecondition, rejected.Message)), context.CancellationToken);
        AtomicFile.WriteText(Path.Combine(plan.Directory, "sweep.yaml"), content);
        followers.Follow(plan.Sweep.Name, plan.Directory);
        return new SubmitResponse
        {
            SweepId = accepted.SweepId, Jobs = accepted.Jobs, AlreadyDone = accepted.AlreadyDone, OutputDirectory = plan.Directory,
            Teachers = plan.Teachers.Count, SoftTargetJobs = plan.SoftTargetJobs.Count, Students = plan.Students.Count, Baselines = plan.Baselines.Count,
            PriorPoints = accepted.PriorPoints,
        };
    }

    static readonly System.Text.UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The file's text; INVALID_ARGUMENT at the line and column of the first byte that is not UTF-8.</summary>
    static string Utf8Text(Google.Protobuf.ByteString bytes, string fileName)
    {
        try
        {
            return StrictUtf8.GetString(bytes.Span);
        }
        catch (System.Text.DecoderFallbackException e)
        {
            var before = bytes.Span[..Math.Clamp(e.Index, 0, bytes.Length)];
            int line = 1 + before.Count((byte)'\n'), column = before.Length - before.LastIndexOf((byte)'\n');
            throw Invalid($"{fileName}:{line}:{column}: not UTF-8 text (byte 0x{bytes.Span[before.Length]:X2}); save the file as UTF-8.");
        }
    }

    public override async Task<SweepStatus> Get(GetRequest request, ServerCallContext context)
    {
        var (offset, size) = PageOf(request.PageSize, request.PageToken);
        var status = await Page(request.SweepId, offset, size, context);
        status.NextPageToken = NextPageToken(offset, status);
        if (request.WithSweepFile && SweepReport.SweepFileOf(status) is { Length: > 0 } file && File.Exists(file))
            status.SweepFile = await File.ReadAllTextAsync(file, context.CancellationToken);
        return status;
    }

    public override async Task<ListResponse> List(ListRequest request, ServerCallContext context)
    {
        var response = new ListResponse();
        foreach (string id in await coordinator.SweepIds(context.CancellationToken))
        {
            var status = await SweepRegion.Summary(coordinator.Sweeps, id, context.CancellationToken);
            var counts = status.Counts ?? new JobCounts();
            var summary = new SweepSummary
            {
                SweepId = id, Complete = status.Complete, Jobs = status.TotalJobs, Metric = status.Metric,
                Queued = counts.Queued, Running = counts.Running, Done = counts.Done, Failed = counts.Failed, Cancelled = counts.Cancelled, Stopped = counts.Stopped,
                CancelledSweep = status.Cancelled,
            };
            if (status.Best is { } best) summary.BestMetric = best.MetricMean;
            response.Sweeps.Add(summary);
        }
        if (instruments.Load is { } load)
            foreach (string node in load.FreeSlots.Keys.Union(load.BusySlots.Keys).Order(StringComparer.Ordinal))
                response.Nodes.Add(new NodeSlots { Node = node, FreeSlots = load.FreeSlots.GetValueOrDefault(node), RunningTrials = load.BusySlots.GetValueOrDefault(node) });
        return response;
    }

    public override async Task<ResultsPage> Results(ResultsRequest request, ServerCallContext context)
    {
        var (offset, size) = PageOf(request.PageSize, request.PageToken);
        var status = await Page(request.SweepId, offset, size, context);
        var page = new ResultsPage
        {
            TotalJobs = status.TotalJobs, Metric = status.Metric, Maximize = status.Maximize, Jobs = { status.Jobs }, NextPageToken = NextPageToken(offset, status),
            ParameterNames = { status.ParameterNames }, Objectives = { status.Objectives }, Constraints = { status.Constraints }, Front = { status.Front },
        };
        if (status.Best is { } best) page.Best = best;
        return page;
    }

    /// <summary>A request's page_size and page_token as the offset and count of the jobs it asks for.</summary>
    static (int Offset, int Size) PageOf(int pageSize, string pageToken)
    {
        int size = pageSize == 0 ? DefaultPageSize : pageSize;
        if (size is < 1 or > MaxPageSize) throw Invalid($"page_size {pageSize}: must be between 1 and {MaxPageSize}.");
        int offset = 0;
        if (pageToken.Length > 0 && !int.TryParse(pageToken, NumberStyles.None, CultureInfo.InvariantCulture, out offset))
            throw Invalid($"page_token '{pageToken}' is not one this server gave out; pass the previous page's next_page_token, or none for the first page.");
        return (offset, size);
    }

    /// <summary>The token of the page after <paramref name="page"/>, which started at <paramref name="offset"/>; empty after the last.</summary>
    static string NextPageToken(int offset, SweepStatus page) =>
        offset + page.Jobs.Count < page.TotalJobs ? (offset + page.Jobs.Count).ToString(CultureInfo.InvariantCulture) : "";

    public override async Task<ReportResponse> Report(ReportRequest request, ServerCallContext context)
    {
        var status = await Page(request.SweepId, 0, int.MaxValue, context);
        return new ReportResponse { Html = await Task.Run(() => SweepReport.Render(status, DateTime.UtcNow), context.CancellationToken) };
    }

    public override async Task<CancelResponse> Cancel(CancelRequest request, ServerCallContext context)
    {
        await Page(request.SweepId, 0, 0, context); // NOT_FOUND for an unknown sweep, before anything is created
        string reason = request.Reason.Length > 0 ? request.Reason : $"cancelled through the API by {context.Peer}";
        var reply = await Akka.Actor.Futures.Ask<Google.Protobuf.IMessage>(coordinator.Sweeps, new CancelSweep { SweepId = request.SweepId, Reason = reason },
            TimeSpan.FromSeconds(30), context.CancellationToken);
        var accepted = reply as SweepCancelAccepted ?? throw new RpcException(new Status(StatusCode.NotFound, ((SweepRejected)reply).Message));
        return new CancelResponse { SweepId = accepted.SweepId, Cancelled = accepted.Cancelled, WasRunning = accepted.WasRunning };
    }

    public override async Task<RetryResponse> Retry(RetryRequest request, ServerCallContext context)
    {
        var status = await Page(request.SweepId, 0, 0, context); // NOT_FOUND for an unknown sweep, before anything is created
        var reply = await SweepRegion.Retry(coordinator.Sweeps, request.SweepId, request.Failed, context.CancellationToken);
        if (reply is SweepRejected rejected)
            throw new RpcException(new Status(rejected.Reason == SweepRejected.Types.Reason.NotFound ? StatusCode.NotFound : StatusCode.FailedPrecondition, rejected.Message));
        var accepted = (SweepRetryAccepted)reply;
        if (accepted.Retried > 0) followers.Follow(request.SweepId, SweepPlan.DirectoryOf(status.OutputRoot)); // its results are written again when it completes
        return new RetryResponse { SweepId = accepted.SweepId, Retried = accepted.Retried };
    }

    public override async Task Watch(WatchRequest request, IServerStreamWriter<WatchEvent> stream, ServerCallContext context)
    {
        instruments.WatchOpened();
        try
        {
            await Follow(request, stream, context);
        }
        finally
        {
            instruments.WatchClosed();
        }
    }

    async Task Follow(WatchRequest request, IServerStreamWriter<WatchEvent> stream, ServerCallContext context)
    {
        var cancellation = context.CancellationToken;
        if (request.SweepId.Length > 0) await Page(request.SweepId, 0, 0, context);
        if (request.AfterCursor < 0) throw Invalid($"after_cursor {request.AfterCursor}: give 0 to start now, or the last cursor received.");
        long cursor = request.AfterCursor > 0 ? request.AfterCursor : await WriteSnapshots(request.SweepId, stream, context);
        while (!cancellation.IsCancellationRequested)
        {
            var (events, resumeFrom) = hub.Read(cursor, WatchBatch);
            if (resumeFrom is { } resume)
            {
                await stream.WriteAsync(new WatchEvent
                {
                    Cursor = resume, UnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
                    FellBehind = new FellBehind { ResumeFrom = resume, Reason = $"cursor {cursor} is no longer held (the coordinator keeps its last {hub.Capacity:N0} events, and counts from 1 again when it restarts)" },
                }, cancellation);
                cursor = await WriteSnapshots(request.SweepId, stream, context);
                continue;
            }
            // All but the last event of a batch may wait in the buffer: one flush per batch, not one per event.
            var wanted = events.Where(e => Concerns(e, request.SweepId)).ToList();
            for (int i = 0; i < wanted.Count; i++)
            {
                stream.WriteOptions = i < wanted.Count - 1 ? BufferedWrite : null;
                await stream.WriteAsync(wanted[i], cancellation);
            }
            if (events.Count > 0) cursor = events[^1].Cursor;
            else await hub.WaitAfter(cursor, cancellation);
        }
    }

    /// <summary>
    /// The current state of the sweep (or of every sweep), each stamped with the cursor it is current up to: its
    /// status without jobs, then its jobs a chunk at a time (each a small message, at any sweep size); returns that cursor.
    /// </summary>
    async Task<long> WriteSnapshots(string sweepId, IServerStreamWriter<WatchEvent> stream, ServerCallContext context)
    {
        long cursor = hub.Head; // taken first: events after it may repeat what a snapshot shows, none before it are missed
        var ids = sweepId.Length > 0 ? [sweepId] : await coordinator.SweepIds(context.CancellationToken);
        WatchEvent Stamped(WatchEvent watchEvent)
        {
            watchEvent.Cursor = cursor;
            watchEvent.UnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            return watchEvent;
        }
        foreach (string id in ids)
        {
            stream.WriteOptions = BufferedWrite;
            await stream.WriteAsync(Stamped(new WatchEvent { Snapshot = await SweepRegion.Summary(coordinator.Sweeps, id, context.CancellationToken) }), context.CancellationToken);
            for (int offset = 0; ; offset += SnapshotChunk)
            {
                var page = metrics.WithLatest(await SweepRegion.Page(coordinator.Sweeps, id, offset, SnapshotChunk, context.CancellationToken));
                bool last = offset + page.Jobs.Count >= page.TotalJobs;
                stream.WriteOptions = last ? null : BufferedWrite;
                await stream.WriteAsync(Stamped(new WatchEvent { SnapshotJobs = new SnapshotJobs { SweepId = id, Offset = offset, Jobs = { page.Jobs }, Last = last } }),
                    context.CancellationToken);
                if (last) break;
            }
        }
        return cursor;
    }

    /// <summary>Whether a watcher of <paramref name="sweepId"/> (empty: of every sweep) wants the event; node events concern everyone.</summary>
    static bool Concerns(WatchEvent watchEvent, string sweepId) => sweepId.Length == 0 || watchEvent.EventCase switch
    {
        WatchEvent.EventOneofCase.Sweep => watchEvent.Sweep.SweepId == sweepId,
        WatchEvent.EventOneofCase.Job => watchEvent.Job.SweepId == sweepId,
        WatchEvent.EventOneofCase.Metrics => watchEvent.Metrics.SweepId == sweepId,
        _ => true,
    };

    /// <summary>
    /// A sweep's counts and best point with a page of its jobs (their latest epoch while running); NOT_FOUND (rather
    /// than a new, empty sweep entity) for a name the coordinator does not hold.
    /// </summary>
    async Task<SweepStatus> Page(string sweepId, int offset, int limit, ServerCallContext context)
    {
        if (string.IsNullOrEmpty(sweepId)) throw Invalid("sweep_id is empty.");
        var known = await coordinator.SweepIds(context.CancellationToken);
        if (!known.Contains(sweepId))
            throw new RpcException(new Status(StatusCode.NotFound,
                $"no sweep '{sweepId}'{Suggest.Nearest(sweepId, known)}; the coordinator holds {(known.Count == 0 ? "none" : string.Join(", ", known))}."));
        return metrics.WithLatest(await SweepRegion.Page(coordinator.Sweeps, sweepId, offset, limit, context.CancellationToken));
    }

    static RpcException Invalid(string message) => new(new Status(StatusCode.InvalidArgument, message));
}
