using Orchestrator.Distillation.Configuration;
using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.Sweeps;

public static class SweepSubmission
{
    /// <summary>The command that hands a planned sweep to its entity; the sweep's name is its id.</summary>
    public static SubmitSweep From(SweepPlan plan, string outputRoot)
    {
        var submit = new SubmitSweep
        {
            SweepId = plan.Sweep.Name,
            Name = plan.Sweep.Name,
            Metric = plan.Sweep.Metric.Name,
            Maximize = plan.Sweep.Metric.Maximize,
            OutputRoot = Path.GetFullPath(outputRoot),
        };
        foreach (var job in plan.Teachers.Concat(plan.Students))
            submit.Jobs.Add(new Protocol.V1.PlannedJob
            {
                JobId = job.Id,
                TrialJson = TrialJson.Write(job.Config),
                TeacherJobId = job.TeacherJob ?? "",
                Parameters = { job.Parameters.ToDictionary() },
                Seed = job.Config.Training.Seed,
                Epochs = job.Config.Training.Epochs,
            });
        return submit;
    }
}
