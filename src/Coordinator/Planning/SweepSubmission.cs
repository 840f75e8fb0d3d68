using Orchestrator.Distillation.Configuration;
using Orchestrator.Distillation.Training;
using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.Planning;

public static class SweepSubmission
{
    /// <summary>The command that hands a planned sweep to its entity; the sweep's name is its id.</summary>
    /// <param name="softTargetStore">The soft-target store the sweep's jobs read and write (shared by all nodes).</param>
    public static SubmitSweep From(SweepPlan plan, string softTargetStore)
    {
        var submit = new SubmitSweep
        {
            SweepId = plan.Sweep.Name,
            Name = plan.Sweep.Name,
            Metric = plan.Sweep.Metric.Name,
            Maximize = plan.Sweep.Metric.Maximize,
            OutputRoot = plan.JobsDirectory,
            SoftTargetStore = Path.GetFullPath(softTargetStore),
        };
        if (plan.Sweep.EarlyTerminate is { } early)
            submit.EarlyTermination = new EarlyTermination { Bands = { plan.Bands }, Eta = early.Eta, Strict = early.Strict };
        if (plan.Sweep.Metric.Target is { } target) submit.Target = target;
        submit.Objectives.Add(plan.Sweep.OtherObjectives.Select(o => new Objective { Name = o.Name, Maximize = o.Maximize }));
        submit.Constraints.Add(plan.Sweep.Constraints.Select(c =>
        {
            var constraint = new Constraint { Name = c.Name };
            if (c.Min is { } min) constraint.Min = min;
            if (c.Max is { } max) constraint.Max = max;
            return constraint;
        }));
        if (plan.Sweep.Method == SearchMethod.Bayes)
            submit.Bayes = new BayesSearch { SweepFile = plan.Sweep.Text, SweepPath = plan.Sweep.File, RunCap = plan.Sweep.RunCap!.Value, SamplingSeed = plan.Sweep.SamplingSeed };
        submit.Jobs.Add(plan.Jobs.Select(job => Planned(job, plan.Sweep.Pack)));
        return submit;
    }

    /// <summary>A planned job as the sweep entity holds it; a trial with its pack group, for the sweep's <c>execution.pack</c>.</summary>
    public static Protocol.V1.PlannedJob Planned(PlannedJob job, int pack) => new()
    {
        PackGroup = job.Config is { } trial ? PackGroupOf(trial, pack) : null,
        JobId = job.Id,
        Kind = job.Kind,
        WorkJson = job.WorkJson,
        DependsOn = { job.DependsOn },
        Parameters = { job.Parameters.ToDictionary() },
        Seed = job.Config?.Training.Seed ?? 0,
        Epochs = job.Config?.Training.Epochs ?? 0,
        Baseline = job.Baseline ?? "",
    };

    /// <summary>Which trials may train with this one as a pack, and how many on a CPU and on a GPU slot.</summary>
    public static PackGroup PackGroupOf(TrialConfig trial, int pack)
    {
        var (cpu, gpu) = PackSizing.Limits(pack, trial);
        return new PackGroup { Key = PackSizing.Key(trial), CpuLimit = cpu, GpuLimit = gpu };
    }
}
