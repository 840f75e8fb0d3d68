namespace Orchestrator.Coordinator.Sweeps;

/// <summary>A job's states, as JobStatus.state and JobStateChanged.state carry them (sweeps.proto, cluster.proto).</summary>
public static class JobStates
{
    public const string Queued = "queued", Running = "running", Done = "done", Failed = "failed", Cancelled = "cancelled";

    /// <summary>Done, failed or cancelled: nothing runs it now (a cancelled job runs again when its sweep is resumed).</summary>
    public static bool IsFinished(string state) => state is Done or Failed or Cancelled;
}
