using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.Search;

/// <summary>
/// What a bayes sweep asks its planner for when slots are free: how many points at most, the estimator's observations
/// (finished points in the order they finished) and its constant liar (the points still running), and the index of
/// the first proposal, whose random draws come from (sampling_seed, index). A sweep of several objectives also gives
/// each finished point's values of all of them (<see cref="ManyObjectives"/>, in <see cref="Directions"/>' order).
/// </summary>
public sealed record ProposalRequest(int FreeSlots, int MaxPoints, IReadOnlyList<Observation> Observations,
    IReadOnlyList<IReadOnlyList<double>> Running, bool Maximize, int FirstIndex, int SamplingSeed)
{
    /// <summary>With several objectives: each finished point's values of every objective; empty otherwise.</summary>
    public IReadOnlyList<Observations> ManyObjectives { get; init; } = [];

    /// <summary>Whether each objective is maximised, the first first; one entry for a sweep of one objective.</summary>
    public IReadOnlyList<bool> Directions { get; init; } = [];
}

/// <summary>The points a planner proposed for a <see cref="ProposalRequest"/>: each point's values and every job it needs (its teachers and soft targets too).</summary>
public sealed record ProposedPoints(int FirstIndex, IReadOnlyList<ProposedPoint> Points);

public sealed record ProposedPoint(IReadOnlyList<double> Values, string Key, IReadOnlyList<PlannedJob> Jobs);

public static class ProposalSeeds
{
    /// <summary>The random draws of proposal <paramref name="index"/>: a function of the sweep's sampling seed and the index only.</summary>
    public static int Of(int samplingSeed, int index) => (int)(((uint)samplingSeed * 2654435761u) ^ (uint)index);
}
