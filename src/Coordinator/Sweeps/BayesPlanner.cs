using Orchestrator.Coordinator.Search;
using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.Sweeps;

/// <summary>
/// What a bayes sweep's entity proposes points with: the estimator over the sweep's parameters, and the sweep file
/// (read again from the text it was submitted with) to plan a proposed point's jobs exactly as a grid plans a point.
/// </summary>
public sealed class BayesPlanner
{
    readonly SweepDefinition sweep;
    readonly string directory;

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

    /// <summary>The jobs of the point at <paramref name="values"/> (its teachers and soft targets too, which earlier points may share).</summary>
    public IReadOnlyList<Protocol.V1.PlannedJob> Jobs(IReadOnlyList<double> values) =>
        SweepPlanner.PlanPoints(sweep, directory, [SweepPlanner.PointOf(sweep, values)]).Jobs.Select(SweepSubmission.Planned).ToList();
}
