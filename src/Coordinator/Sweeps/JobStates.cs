using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.Sweeps;

/// <summary>A job's states, as JobStatus.state and JobStateChanged.state carry them (sweeps.proto, cluster.proto).</summary>
public static class JobStates
{
    public const string Queued = "queued", Running = "running", Done = "done", Failed = "failed", Cancelled = "cancelled";

    /// <summary>Done, failed or cancelled: nothing runs it now (a cancelled job runs again when its sweep is resumed).</summary>
    public static bool IsFinished(string state) => state is Done or Failed or Cancelled;

    /// <summary>A state's name as the API and the results show it.</summary>
    public static string Name(JobState state) => state switch
    {
        JobState.Queued => Queued,
        JobState.Running => Running,
        JobState.Done => Done,
        JobState.Failed => Failed,
        JobState.Cancelled => Cancelled,
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "no job is in this state"),
    };
}
