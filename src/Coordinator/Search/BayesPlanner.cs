using Orchestrator.Coordinator.Results;
using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.Search;

/// <summary>
/// What a bayes sweep proposes points with: the estimator over the sweep's parameters, and the planning of a proposed
/// point's jobs exactly as a grid plans a point (BayesPlanning.For in Planning makes one from the sweep file).
/// Planning a point may read files (a teacher's hash, once per sweep): a sweep's entity runs this off its thread.
/// </summary>
/// <param name="seeds">How many students a point is (one per seed).</param>
/// <param name="jobsAt">The jobs of the point at these values (its teachers and soft targets too, which earlier points may share).</param>
public sealed class BayesPlanner(IReadOnlyList<SearchDimension> space, int seeds, Func<IReadOnlyList<double>, IReadOnlyList<PlannedJob>> jobsAt)
{
    public TreeParzenEstimator Estimator { get; } = new(space);

    public int Seeds => seeds;

    /// <summary>Points for the free slots (a point per seeds-many slots, at least one, at most the request's), each with its jobs.</summary>
    public ProposedPoints Propose(ProposalRequest request)
    {
        int count = Math.Min(Math.Max(1, request.FreeSlots / Math.Max(1, seeds)), request.MaxPoints);
        var running = request.Running.ToList();
        var points = new List<ProposedPoint>();
        for (int i = 0; i < count; i++)
        {
            var random = new Random(ProposalSeeds.Of(request.SamplingSeed, request.FirstIndex + i));
            var values = request.Directions.Count > 1
                ? Estimator.Propose(request.ManyObjectives, running, request.Directions, random)
                : Estimator.Propose(request.Observations, running, request.Maximize, random);
            running.Add(values);
            var jobs = Jobs(values);
            points.Add(new ProposedPoint(values, SweepResults.PointKey(jobs.First(j => j.Kind == JobKind.Student).Parameters), jobs));
        }
        return new ProposedPoints(request.FirstIndex, points);
    }

    public IReadOnlyList<PlannedJob> Jobs(IReadOnlyList<double> values) => jobsAt(values);
}
