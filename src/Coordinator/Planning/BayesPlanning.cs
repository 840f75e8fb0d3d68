using Orchestrator.Coordinator.Search;
using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.Planning;

public static class BayesPlanning
{
    /// <summary>
    /// A bayes sweep's planner, from the sweep file's text it was submitted with (read again here): a proposed point is
    /// planned as a grid plans one. The teachers' file hashes are kept for the planner's life, so a teacher checkpoint
    /// is hashed once, not once per proposal.
    /// </summary>
    /// <param name="outputRoot">Where the sweep's jobs write (<see cref="SubmitSweep.OutputRoot"/>).</param>
    public static BayesPlanner For(BayesSearch search, string outputRoot)
    {
        var sweep = SweepFile.Parse(search.SweepFile, search.SweepPath);
        string directory = SweepPlan.DirectoryOf(outputRoot);
        var hashes = new FileHashes();
        return new BayesPlanner(sweep.Parameters.Select(p => p.Dimension).ToList(), sweep.Seeds.Count,
            values => SweepPlanner.PlanPoints(sweep, directory, [SweepPlanner.PointOf(sweep, values)], hashes).Jobs.Select(job => SweepSubmission.Planned(job, sweep.Pack)).ToList());
    }
}
