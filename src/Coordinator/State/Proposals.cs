using Orchestrator.Coordinator.Results;
using Google.Protobuf;
using Orchestrator.Coordinator.Search;
using Orchestrator.Protocol.V1;
using PlannedJob = Orchestrator.Protocol.V1.PlannedJob;

namespace Orchestrator.Coordinator.State;

/// <summary>
/// method: bayes. Points are proposed when the scheduler has free slots and nothing runnable: the state asks
/// (<see cref="Request"/>), a planner off the entity's thread proposes and plans them (<see cref="BayesPlanner"/>), and
/// the state turns what came back into events (<see cref="Decide(ProposedPoints)"/>). A proposal is persisted
/// (<see cref="PointProposed"/>, then its jobs): the same results in the same order give the same proposals, and a
/// restarted sweep goes on from its persisted ones, never repeating one. Pure.
/// </summary>
public sealed class Proposals(SubmitSweep sweep, JobGraph jobs, Scoreboard scores, EarlyStopping stopping)
{
    readonly List<PointProposed> proposals = [];
    /// <summary>Indexes into <see cref="proposals"/> whose points finished, in the order they did: the estimator's observations.</summary>
    readonly List<int> finishedProposals = [];
    readonly Dictionary<string, List<int>> proposalsByPoint = [];

    public int Count => proposals.Count;

    /// <summary>Below run_cap (whether the sweep may still propose also depends on its cancellation and target).</summary>
    public bool BelowCap => sweep.Bayes is { } bayes && proposals.Count < bayes.RunCap;

    /// <summary>
    /// The request for the free slots, or null while jobs it has are still waiting (they take the slots first: a
    /// teacher's students wait for it, and proposing more would only guess more).
    /// </summary>
    public ProposalRequest? Request(ProposeJobs request)
    {
        if (jobs.Jobs.Any(j => !j.Finished && j.State != JobState.Running)) return null;
        var finished = finishedProposals.ToHashSet();
        var running = proposals.Where((_, i) => !finished.Contains(i)).Select(p => (IReadOnlyList<double>)p.Values).ToList();
        var observations = Observations();
        // prior: earlier sweeps' finished points come first, as if this sweep had observed them before its own.
        var prior = sweep.Bayes.Prior;
        return new ProposalRequest(request.FreeSlots, sweep.Bayes.RunCap - proposals.Count,
            [.. prior.Select(p => new Observation(p.Values, p.Objectives[0])), .. observations], running, sweep.Maximize, proposals.Count, sweep.Bayes.SamplingSeed)
        {
            ManyObjectives = sweep.Objectives.Count == 0 ? [] :
            [
                .. prior.Select(p => new Observations(p.Values, p.Objectives)),
                .. observations.Select((o, i) => new Observations(o.Point, sweep.Objectives.Select(objective => scores.MeanOf(finishedKeys[i], objective.Name)).Prepend(o.Value).ToList())),
            ],
            Directions = sweep.Objectives.Select(o => o.Maximize).Prepend(sweep.Maximize).ToList(),
        };
    }

    /// <summary>The events of proposed points: each point, and its jobs not planned yet (handed over once stored); the reply says whether run_cap is reached.</summary>
    public Decision Decide(ProposedPoints proposed, string sweepId)
    {
        if (proposed.FirstIndex != proposals.Count) return new Decision([], [], new NoProposal { SweepId = sweepId }); // proposed from an older state: ask again
        var events = new List<IMessage>();
        var handOver = new List<string>();
        var planned = new HashSet<string>();
        foreach (var point in proposed.Points)
        {
            var fresh = point.Jobs.Where(j => !jobs.Contains(j.JobId) && planned.Add(j.JobId)).ToList();
            events.Add(new PointProposed { Values = { point.Values }, Point = point.Key });
            if (fresh.Count > 0) events.Add(new SweepJobsPlanned { Jobs = { fresh.Select(j => j.ToByteString()) } });
            handOver.AddRange(fresh.Select(j => j.JobId));
        }
        return new Decision(events, handOver, new NoProposal { SweepId = sweepId, Done = proposals.Count + proposed.Points.Count >= sweep.Bayes.RunCap });
    }

    /// <summary>The finished points in the order they finished, each with its value: its mean over its seeds, or where it was stopped, its value at that band.</summary>
    List<Observation> Observations()
    {
        var observations = new List<Observation>();
        finishedKeys.Clear();
        foreach (int index in finishedProposals)
            if (PointValue(proposals[index].Point) is { } value)
            {
                observations.Add(new Observation(proposals[index].Values, value));
                finishedKeys.Add(proposals[index].Point);
            }
        return observations;
    }

    /// <summary>The points of the last <see cref="Observations"/>, in their order: where their other objectives' means are.</summary>
    readonly List<string> finishedKeys = [];

    /// <summary>A point whose every seed failed is no observation.</summary>
    double? PointValue(string key) => stopping.StoppedValue(key) ?? scores.MeanOf(key);

    public void Apply(PointProposed proposed)
    {
        int index = Add(proposed);
        if (stopping.Finished(proposed.Point)) finishedProposals.Add(index); // proposed again
    }

    int Add(PointProposed proposed)
    {
        proposals.Add(proposed);
        (proposalsByPoint.TryGetValue(proposed.Point, out var list) ? list : proposalsByPoint[proposed.Point] = []).Add(proposals.Count - 1);
        return proposals.Count - 1;
    }

    /// <summary>Once a proposed point's last seed finished, it is an observation, in this order.</summary>
    public void Finished(SweepJob student)
    {
        if (student.Trace is not { } trace || !trace.Point.AllFinished || !proposalsByPoint.TryGetValue(trace.Point.Key, out var indexes)) return;
        foreach (int index in indexes.Where(i => !finishedProposals.Contains(i))) finishedProposals.Add(index);
    }

    public void Save(SweepSnapshot snapshot)
    {
        snapshot.Proposals.Add(proposals);
        snapshot.FinishedProposals.Add(finishedProposals);
    }

    public void Restore(SweepSnapshot snapshot)
    {
        foreach (var proposed in snapshot.Proposals) Add(proposed);
        finishedProposals.AddRange(snapshot.FinishedProposals);
    }
}
