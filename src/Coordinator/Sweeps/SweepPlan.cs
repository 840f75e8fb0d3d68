using Orchestrator.Distillation.Configuration;

namespace Orchestrator.Coordinator.Sweeps;

/// <summary>
/// One job of a sweep. Its id is a hash of everything it computes (for a student, including which teacher job),
/// so submitting the same sweep twice plans the same ids and nothing runs twice.
/// </summary>
/// <param name="TeacherJob">The teacher job whose best checkpoint this student learns from; null for teachers and students without one.</param>
/// <param name="Parameters">The swept values of this point, as written (for tables).</param>
public sealed record PlannedJob(string Id, TrialConfig Config, string? TeacherJob, IReadOnlyDictionary<string, string> Parameters);

/// <summary>A sweep expanded into jobs: teacher trainings first, then student trials that depend on them.</summary>
public sealed record SweepPlan(SweepDefinition Sweep, IReadOnlyList<PlannedJob> Teachers, IReadOnlyList<PlannedJob> Students, int Points);
