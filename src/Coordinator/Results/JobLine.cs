using Orchestrator.Protocol;
using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.Results;

/// <summary>How a finished job reads in one line, wherever it is shown (the CLI's progress, the coordinator's log).</summary>
public static class JobLine
{
    /// <summary>A finished job as one line: its parameters and seed, and its result or failure.</summary>
    public static string Of(JobStatus job)
    {
        var shown = job.Parameters.Select(p => $"{p.Key}={p.Value}").Concat(JobKinds.TrainsTrial(job.Kind) ? [$"seed {job.Seed}"] : []).ToList();
        string parameters = shown.Count == 0 ? "" : $" ({string.Join(", ", shown)})";
        return job.State switch
        {
            JobState.Failed => $"failed {job.JobId}{parameters}: {job.Summary?.FailureReason}",
            JobState.Stopped when job.Summary is { BestEpoch: > 0 } => $"stopped {job.JobId}{parameters}: {Outcome(job)}; {job.StopReason}",
            JobState.Stopped => $"stopped {job.JobId}{parameters}: {job.StopReason}",
            _ => $"done   {job.JobId}{parameters}: {Outcome(job)}",
        };
    }

    static string Outcome(JobStatus job)
    {
        var s = job.Summary;
        string soft = $"soft targets {s.SoftTargets} {(s.SoftTargetsCached ? "found in the store" : "generated")} in {s.Seconds:F0} s";
        return job.Kind switch
        {
            JobKind.SoftTargetShard => soft,
            JobKind.SoftTargets => $"ensemble val {s.BestValidationAccuracy:P2}, test {s.TestAccuracy:P2}; {soft}",
            _ => $"val {s.BestValidationAccuracy:P2}, test {s.TestAccuracy:P2}",
        };
    }
}
