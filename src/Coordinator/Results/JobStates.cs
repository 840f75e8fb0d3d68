using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.Results;

/// <summary>A job's states (<see cref="JobState"/>, as JobStatus.state and JobStateChanged.state carry them) as people read them.</summary>
public static class JobStates
{
    /// <summary>Done, failed, cancelled or stopped: nothing runs it now (a cancelled job runs again when its sweep is resumed).</summary>
    public static bool IsFinished(JobState state) => state is JobState.Done or JobState.Failed or JobState.Cancelled or JobState.Stopped;

    /// <summary>A state's name as the CLI, the results files and the metrics' labels show it.</summary>
    public static string Name(JobState state) => state switch
    {
        JobState.Queued => "queued",
        JobState.Running => "running",
        JobState.Done => "done",
        JobState.Failed => "failed",
        JobState.Cancelled => "cancelled",
        JobState.Stopped => "stopped",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "no job is in this state"),
    };
}
