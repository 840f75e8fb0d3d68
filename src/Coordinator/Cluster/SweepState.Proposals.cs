using Google.Protobuf;
using Orchestrator.Coordinator.Search;
using Orchestrator.Coordinator.Sweeps;
using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.Cluster;

/// <summary>
/// method: bayes. Points are proposed when the scheduler has free slots and nothing runnable (<see cref="ProposeJobs"/>),
/// by the Tree-structured Parzen Estimator over the points finished so far, in the order they finished, with those
/// still running as its constant liar. A proposal is persisted (<see cref="PointProposed"/>, then its jobs), and the
/// random draws of proposal i come from (sampling_seed, i): the same results in the same order give the same
/// proposals, and a restarted sweep goes on from its persisted ones, never repeating one.
/// </summary>
public sealed partial class SweepState
{
    readonly List<PointProposed> proposals = [];
    /// <summary>Indexes into <see cref="proposals"/> whose points finished, in the order they did: the estimator's observations.</summary>
    readonly List<int> finishedProposals = [];
    readonly Dictionary<string, List<int>> proposalsByPoint = [];

    /// <summary>A bayes sweep that may still propose points: not cancelled, below run_cap, its target not reached.</summary>
    public bool MayPropose => Sweep?.Bayes is { } bayes && Cancelled is null && targetReached is null && proposals.Count < bayes.RunCap;

    public int Proposals => proposals.Count;

    /// <summary>
    /// Proposes points for the free slots (a point per seeds-many slots, at least one), unless jobs it has are still
    /// waiting (they take the slots first: a teacher's students wait for it, and proposing more would only guess
    /// more); always answers <see cref="NoProposal"/>, done once nothing more will be proposed.
    /// </summary>
    public Decision Decide(ProposeJobs request, BayesPlanner planner)
    {
        if (!MayPropose) return new Decision([], [], new NoProposal { SweepId = SweepId, Done = true });
        if (jobs.Any(j => !j.Finished && j.State != JobState.Running)) return new Decision([], [], new NoProposal { SweepId = SweepId });
        var bayes = Sweep!.Bayes;
        int count = Math.Min(Math.Max(1, request.FreeSlots / Math.Max(1, planner.Seeds)), bayes.RunCap - proposals.Count);
        var observations = Observations();
        var finished = finishedProposals.ToHashSet();
        var running = proposals.Where((_, i) => !finished.Contains(i)).Select(p => (IReadOnlyList<double>)p.Values).ToList();
        var events = new List<IMessage>();
        var handOver = new List<string>();
        var planned = new HashSet<string>();
        for (int i = 0; i < count; i++)
        {
            var values = planner.Estimator.Propose(observations, running, Sweep.Maximize, new Random(ProposalSeed(bayes.SamplingSeed, proposals.Count + i)));
            running.Add(values);
            var pointJobs = planner.Jobs(values);
            var fresh = pointJobs.Where(j => !byId.ContainsKey(j.JobId) && planned.Add(j.JobId)).ToList();
            events.Add(new PointProposed { Values = { values }, Point = SweepResults.PointKey(pointJobs.First(j => j.Kind == JobKind.Student).Parameters) });
            if (fresh.Count > 0) events.Add(new SweepJobsPlanned { Jobs = { fresh.Select(j => j.ToByteString()) } });
            handOver.AddRange(fresh.Select(j => j.JobId));
        }
        return new Decision(events, handOver, new NoProposal { SweepId = SweepId, Done = proposals.Count + count >= bayes.RunCap });
    }

    /// <summary>The random draws of proposal <paramref name="index"/>: a function of the sweep's sampling seed and the index only.</summary>
    static int ProposalSeed(int samplingSeed, int index) => (int)(((uint)samplingSeed * 2654435761u) ^ (uint)index);

    /// <summary>The finished points in the order they finished, each with its value: its mean over its seeds, or where it was stopped, its value at that band.</summary>
    List<Observation> Observations()
    {
        var observations = new List<Observation>();
        foreach (int index in finishedProposals)
            if (PointValue(proposals[index].Point) is { } value) observations.Add(new Observation(proposals[index].Values, value));
        return observations;
    }

    double? PointValue(string key)
    {
        if (studentPoints.TryGetValue(key, out var point) && point.StopReason is not null && Sweep!.EarlyTermination is { } rule && point.LatestBand() is >= 0 and var band)
            return point.Mean(band, bestSoFar: !rule.Strict);
        return points.TryGetValue(key, out var scored) ? scored.Mean : null; // a point whose every seed failed is no observation
    }

    void Apply(PointProposed proposed)
    {
        int index = Add(proposed);
        if (studentPoints.TryGetValue(proposed.Point, out var point) && point.Jobs.All(j => j.Finished)) finishedProposals.Add(index); // proposed again
    }

    int Add(PointProposed proposed)
    {
        proposals.Add(proposed);
        (proposalsByPoint.TryGetValue(proposed.Point, out var list) ? list : proposalsByPoint[proposed.Point] = []).Add(proposals.Count - 1);
        return proposals.Count - 1;
    }

    /// <summary>Once a proposed point's last seed finished, it is an observation, in this order.</summary>
    void Finished(Job student)
    {
        if (student.Trace is not { } trace || !trace.Point.Jobs.All(j => j.Finished) || !proposalsByPoint.TryGetValue(trace.Point.Key, out var indexes)) return;
        foreach (int index in indexes.Where(i => !finishedProposals.Contains(i))) finishedProposals.Add(index);
    }

    void SaveProposals(SweepSnapshot snapshot)
    {
        snapshot.Proposals.Add(proposals);
        snapshot.FinishedProposals.Add(finishedProposals);
    }

    void RestoreProposals(SweepSnapshot snapshot)
    {
        foreach (var proposed in snapshot.Proposals) Add(proposed);
        finishedProposals.AddRange(snapshot.FinishedProposals);
    }
}
