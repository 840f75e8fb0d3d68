using Orchestrator.Coordinator.Search;
using Orchestrator.Coordinator.State;
using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.Sweeps;

/// <summary>
/// What a bayes sweep proposes points with: the estimator over the sweep's parameters, and the sweep file (read again
/// from the text it was submitted with) to plan a proposed point's jobs exactly as a grid plans a point. Reading the
/// file and hashing the teachers it names is I/O: a sweep's entity runs this off its thread. The files' hashes are
/// kept for the sweep's life, so a teacher checkpoint is hashed once, not once per proposal.
/// </summary>
public sealed class BayesPlanner
{
    readonly SweepDefinition sweep;
    readonly string directory;
    readonly FileHashes hashes = new();

    /// <param name="outputRoot">Where the sweep's jobs write (<see cref="SubmitSweep.OutputRoot"/>).</param>
    public BayesPlanner(BayesSearch search, string outputRoot)
    {
        sweep = SweepFile.Parse(search.SweepFile, search.SweepPath);
        directory = SweepPlan.DirectoryOf(outputRoot);
        Estimator = new TreeParzenEstimator(sweep.Parameters.Select(p => p.Dimension).ToList());
    }

    public TreeParzenEstimator Estimator { get; }

    /// <summary>How many students a point is (one per seed).</summary>
    public int Seeds => sweep.Seeds.Count;

    /// <summary>Points for the free slots (a point per seeds-many slots, at least one, at most the request's), each with its jobs.</summary>
    public ProposedPoints Propose(ProposalRequest request)
    {
        int count = Math.Min(Math.Max(1, request.FreeSlots / Math.Max(1, Seeds)), request.MaxPoints);
        var running = request.Running.ToList();
        var points = new List<ProposedPoint>();
        for (int i = 0; i < count; i++)
        {
            var values = Estimator.Propose(request.Observations, running, request.Maximize, new Random(Proposals.ProposalSeed(request.SamplingSeed, request.FirstIndex + i)));
            running.Add(values);
            var jobs = Jobs(values);
            points.Add(new ProposedPoint(values, SweepResults.PointKey(jobs.First(j => j.Kind == JobKind.Student).Parameters), jobs));
        }
        return new ProposedPoints(request.FirstIndex, points);
    }

    /// <summary>The jobs of the point at <paramref name="values"/> (its teachers and soft targets too, which earlier points may share).</summary>
    public IReadOnlyList<Protocol.V1.PlannedJob> Jobs(IReadOnlyList<double> values) =>
        SweepPlanner.PlanPoints(sweep, directory, [SweepPlanner.PointOf(sweep, values)], hashes).Jobs.Select(job => SweepSubmission.Planned(job, sweep.Pack)).ToList();
}
