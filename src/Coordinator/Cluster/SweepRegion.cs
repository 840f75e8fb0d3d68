using Akka.Actor;
using Orchestrator.Coordinator.Planning;
using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.Cluster;

/// <summary>Asking the sweep entities' shard region, in this process: what the API, the followers and <c>local</c> share.</summary>
public static class SweepRegion
{
    static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Hands the plan to its sweep entity and, once accepted, keeps the sweep file beside its results; its refusal (a
    /// changed sweep under a used name) becomes what <paramref name="rejected"/> makes of it.
    /// </summary>
    public static async Task<SweepAccepted> Submit(IActorRef sweeps, SweepPlan plan, string softTargetStore, Func<SweepRejected, Exception> rejected,
        CancellationToken cancellation)
    {
        var submit = SweepSubmission.From(plan, softTargetStore);
        if (plan.Sweep.Prior.Count > 0)
        {
            var known = await Ids(sweeps, cancellation);
            foreach (string prior in plan.Sweep.Prior)
            {
                if (!known.Contains(prior))
                    throw rejected(new SweepRejected { SweepId = plan.Sweep.Name, Reason = SweepRejected.Types.Reason.NotFound,
                        Message = $"{plan.Sweep.File}: prior: no sweep '{prior}'{Distillation.Suggest.Nearest(prior, known)} on this coordinator; it holds {(known.Count == 0 ? "none" : string.Join(", ", known))}." });
                try { submit.Bayes.Prior.Add(PriorPoints.From(plan.Sweep, await Status(sweeps, prior, cancellation))); }
                catch (Distillation.UserInputException e) { throw rejected(new SweepRejected { SweepId = plan.Sweep.Name, Reason = SweepRejected.Types.Reason.Conflict, Message = e.Message }); }
            }
        }
        var accepted = await sweeps.Ask<Google.Protobuf.IMessage>(submit, AskTimeout, cancellation) switch
        {
            SweepAccepted yes => yes,
            SweepRejected refusal => throw rejected(refusal),
            var other => throw new InvalidOperationException($"the sweep entity answered {other.Descriptor.FullName} to a submission"),
        };
        plan.KeepSweepFile();
        return accepted;
    }

    /// <summary>The ids of every sweep the shard region holds (sweeps are remembered entities, so each one it ever accepted).</summary>
    public static async Task<IReadOnlyList<string>> Ids(IActorRef sweeps, CancellationToken cancellation)
    {
        var state = await sweeps.Ask<Akka.Cluster.Sharding.CurrentShardRegionState>(Akka.Cluster.Sharding.GetShardRegionState.Instance, TimeSpan.FromSeconds(10), cancellation);
        return state.Shards.SelectMany(s => s.EntityIds).Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>A refusal as bad input: what the CLI commands and <c>serve --sweep</c> make of it.</summary>
    public static Exception AsUserInput(SweepRejected rejected) => new Distillation.UserInputException(rejected.Message);

    /// <summary>Queues the sweep's failed jobs again (<see cref="RetrySweep"/>; all of them, or only what the machine broke): its entity's answer, accepted or refused.</summary>
    public static Task<Google.Protobuf.IMessage> Retry(IActorRef sweeps, string sweep, bool allFailed, CancellationToken cancellation) =>
        sweeps.Ask<Google.Protobuf.IMessage>(new RetrySweep { SweepId = sweep, AllFailed = allFailed }, AskTimeout, cancellation);

    /// <summary>The sweep with every job: O(jobs), for this process only (results files, the report, local's last table), never a reply over the network.</summary>
    public static Task<SweepStatus> Status(IActorRef sweeps, string sweep, CancellationToken cancellation) =>
        Page(sweeps, sweep, 0, int.MaxValue, cancellation);

    /// <summary>The sweep's counts and best point, without its jobs: the same cost at any sweep size.</summary>
    public static Task<SweepStatus> Summary(IActorRef sweeps, string sweep, CancellationToken cancellation) =>
        Page(sweeps, sweep, 0, 0, cancellation);

    /// <summary>The sweep's counts and best point, with up to <paramref name="limit"/> jobs from <paramref name="offset"/> in results order.</summary>
    public static Task<SweepStatus> Page(IActorRef sweeps, string sweep, int offset, int limit, CancellationToken cancellation) =>
        sweeps.Ask<SweepStatus>(new GetSweepStatus { SweepId = sweep, JobsOffset = offset, JobsLimit = limit }, AskTimeout, cancellation);

    /// <summary>Every job of the sweep in results order, asked a page at a time: what the results files are written from.</summary>
    public static async IAsyncEnumerable<JobStatus> Jobs(IActorRef sweeps, string sweep, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellation = default)
    {
        const int PageSize = 10_000;
        for (int offset = 0; ; offset += PageSize)
        {
            var page = await Page(sweeps, sweep, offset, PageSize, cancellation);
            foreach (var job in page.Jobs) yield return job;
            if (page.Jobs.Count < PageSize) yield break;
        }
    }

    /// <summary>
    /// The sweep's status once it is complete (or cancelled): told by its entity's event in this process, so the
    /// whole sweep is read once, at the end, not once a second while it runs.
    /// </summary>
    public static async Task<SweepStatus> Completed(ActorSystem system, IActorRef sweeps, string sweep, CancellationToken cancellation)
    {
        var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var watcher = system.ActorOf(Props.Create(() => new EndWatcher(sweep, ended)));
        system.EventStream.Subscribe(watcher, typeof(SweepStateChanged)); // before the first look: an end between the two is not missed
        try
        {
            if (!(await Summary(sweeps, sweep, cancellation)).Complete) await ended.Task.WaitAsync(cancellation);
            return await Status(sweeps, sweep, cancellation);
        }
        finally
        {
            system.Stop(watcher);
        }
    }

    sealed class EndWatcher : ReceiveActor
    {
        public EndWatcher(string sweep, TaskCompletionSource ended) =>
            Receive<SweepStateChanged>(e => e.SweepId == sweep && e.Change is SweepChange.Complete or SweepChange.Cancelled, _ => ended.TrySetResult());
    }
}
