using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orchestrator.Coordinator.Cluster;
using Orchestrator.Coordinator.Planning;
using Orchestrator.Coordinator.Results;
using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.Api;

/// <summary>
/// One follower per sweep, however it was submitted (at start, through the API, or before this coordinator restarted):
/// it waits until the sweep completes, then writes its results.csv, results.json and report.html and logs the best
/// recipe. A follower that fails (the journal is slow to answer, the disk is full) is logged with its exception and
/// started again after <see cref="RestartDelay"/>, until its results are written or the coordinator stops.
/// </summary>
public sealed class SweepFollowers(CoordinatorContext coordinator, ILogger<SweepFollowers> log, TimeSpan? restartDelay = null) : IHostedService
{
    public static readonly TimeSpan DefaultRestartDelay = TimeSpan.FromSeconds(5);

    readonly Dictionary<string, Task> followers = [];
    readonly CancellationTokenSource stopping = new();
    Task resuming = Task.CompletedTask;

    public TimeSpan RestartDelay { get; } = restartDelay ?? DefaultRestartDelay;

    /// <summary>
    /// Follows every sweep the coordinator holds that has not completed or whose results were never written (it was
    /// submitted before a restart, or completed while no follower ran): those its entities replay from now on, and
    /// those already replayed.
    /// </summary>
    public Task StartAsync(CancellationToken cancellation)
    {
        var recovered = coordinator.System.ActorOf(Akka.Actor.Props.Create(() => new RecoveredSweeps(this)), "sweep-followers");
        coordinator.System.EventStream.Subscribe(recovered, typeof(SweepEntity.Recovered)); // now, not in PreStart: before the scan below
        resuming = Supervise("every unfinished sweep", async token =>
        {
            foreach (string id in await coordinator.SweepIds(token))
            {
                var status = await SweepRegion.Summary(coordinator.Sweeps, id, token);
                if (status.OutputRoot.Length > 0) FollowUnlessReported(id, status.OutputRoot, status.Complete);
            }
        });
        return Task.CompletedTask;
    }

    void FollowUnlessReported(string sweepId, string outputRoot, bool complete) => Follow(sweepId, SweepPlan.DirectoryOf(outputRoot), unlessReported: complete);

    /// <summary>Hands each sweep an entity replays to the followers (subscribed before the first scan, so none is missed).</summary>
    sealed class RecoveredSweeps : Akka.Actor.ReceiveActor
    {
        public RecoveredSweeps(SweepFollowers followers)
        {
            Receive<SweepEntity.Recovered>(r => followers.FollowUnlessReported(r.SweepId, r.OutputRoot, r.Complete));
        }
    }

    /// <summary>Starts following the sweep unless a follower of it is running (a sweep resumed after it completed is followed again).</summary>
    /// <param name="directory">The sweep's folder, where its results go.</param>
    /// <param name="unlessReported">A completed sweep: followed only when its results were never written (looked at on the thread pool, not an actor's thread).</param>
    public void Follow(string sweepId, string directory, bool unlessReported = false)
    {
        lock (followers)
        {
            if (followers.TryGetValue(sweepId, out var running) && !running.IsCompleted) return;
            followers[sweepId] = Supervise(sweepId, async token =>
            {
                if (unlessReported && File.Exists(Path.Combine(directory, SweepResults.CsvFile))) return;
                var status = await SweepRegion.Completed(coordinator.System, coordinator.Sweeps, sweepId, token);
                await SweepResults.WriteAsync(status, () => SweepRegion.Jobs(coordinator.Sweeps, sweepId, token), directory);
                SweepReport.Write(status, directory);
                LogResults(status, directory);
            });
        }
    }

    /// <summary>Runs <paramref name="work"/> until it succeeds or the coordinator stops; never faults.</summary>
    async Task Supervise(string sweep, Func<CancellationToken, Task> work)
    {
        await Task.Yield();
        for (int attempt = 1; !stopping.IsCancellationRequested; attempt++)
        {
            try
            {
                await work(stopping.Token);
                return;
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                log.LogError(e, "Following sweep {Sweep} failed (attempt {Attempt}); starting again in {Delay}", sweep, attempt, RestartDelay);
            }
            try { await Task.Delay(RestartDelay, stopping.Token); }
            catch (OperationCanceledException) { return; }
        }
    }

    void LogResults(SweepStatus status, string directory)
    {
        log.LogInformation("{Sweep}: complete; wrote {Results}, results.json and {Report}", status.Name, Path.Combine(directory, SweepResults.CsvFile), SweepReport.FileName);
        foreach (var job in status.Jobs.Where(j => j.Kind is JobKind.Teacher or JobKind.SoftTargets && j.State == JobState.Done))
            log.LogInformation("{Sweep}: {Job}", status.Name, SweepResults.Describe(job));
        var recipes = SweepResults.Recipes(status);
        if (recipes.Count == 0) log.LogWarning("{Sweep}: no student trial finished", status.Name);
        else log.LogInformation("{Best}", SweepResults.BestLine(status, recipes[0]));
    }

    public async Task StopAsync(CancellationToken cancellation)
    {
        await stopping.CancelAsync();
        Task[] all;
        lock (followers) all = [.. followers.Values, resuming];
        await Task.WhenAll(all).WaitAsync(cancellation);
    }
}
