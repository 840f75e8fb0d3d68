using Orchestrator.Distillation.Configuration;
using Orchestrator.Distillation.SoftTargets;
using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.Planning;

/// <summary>
/// One job of a sweep: a teacher or student trial (<see cref="Config"/>), or a soft-target job (<see cref="SoftTargets"/>).
/// Its id is a hash of everything it computes (for a student, including which teachers), so submitting the same
/// sweep twice plans the same ids and nothing runs twice.
/// </summary>
/// <param name="DependsOn">The jobs that must finish first: a shard's teacher, an aggregation's shards, a student's soft targets (or its teachers when online).</param>
/// <param name="Parameters">The swept values of this point, as written (for tables).</param>
/// <param name="Baseline">A distilled student's baseline job: the same student trained alone on labels, same seed; null: none.</param>
public sealed record PlannedJob(string Id, JobKind Kind, TrialConfig? Config, SoftTargetJob? SoftTargets, IReadOnlyList<string> DependsOn,
    IReadOnlyDictionary<string, string> Parameters, string? Baseline = null)
{
    public string WorkJson => Config is not null ? TrialJson.Write(Config) : SoftTargets!.ToJson();
}

/// <summary>
/// A sweep expanded into a job graph: teacher trainings, soft-target shards and aggregations, then student trials.
/// Every job writes into <see cref="JobsDirectory"/>/&lt;id&gt;, so a teacher's checkpoint path is known before it is trained.
/// </summary>
/// <param name="StudentEpochs">The most epochs a student of the sweep trains (early termination's bands stop there).</param>
public sealed record SweepPlan(SweepDefinition Sweep, string Directory, IReadOnlyList<PlannedJob> Jobs, int Points, int StudentEpochs)
{
    public const string JobsFolder = "trials";

    /// <summary>
    /// Writes the sweep file's text as <see cref="Results.SweepReport.SweepFileName"/> (whole or not at all) once the sweep is accepted. A disk that cannot take it
    /// (full, read-only) costs the report its settings section, not the sweep its submission.
    /// </summary>
    public void KeepSweepFile()
    {
        try
        {
            if (Sweep.Text.Length > 0) Distillation.AtomicFile.WriteText(Path.Combine(Directory, Results.SweepReport.SweepFileName), Sweep.Text);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    public string JobsDirectory => Path.Combine(Directory, JobsFolder);

    /// <summary>The sweep's folder, from the folder its jobs write into (a submitted sweep's output root).</summary>
    public static string DirectoryOf(string jobsDirectory) => Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(jobsDirectory))!;
    public IReadOnlyList<PlannedJob> Teachers => Of(JobKind.Teacher);
    public IReadOnlyList<PlannedJob> Students => Of(JobKind.Student);
    public IReadOnlyList<PlannedJob> Baselines => Of(JobKind.Baseline);
    public IReadOnlyList<PlannedJob> SoftTargetJobs => Jobs.Where(j => j.Kind is JobKind.SoftTargetShard or JobKind.SoftTargets).ToList();

    IReadOnlyList<PlannedJob> Of(JobKind kind) => Jobs.Where(j => j.Kind == kind).ToList();

    /// <summary>early_terminate's bands (epochs) for this plan's longest-training student; empty without early_terminate.</summary>
    public IReadOnlyList<int> Bands => Sweep.EarlyTerminate?.Bands(StudentEpochs) ?? [];
}
