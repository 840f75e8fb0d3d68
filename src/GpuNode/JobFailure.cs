using Orchestrator.Distillation;
using Orchestrator.Protocol.V1;

namespace Orchestrator.GpuNode;

/// <summary>A job that ended with an exception, as its summary: the reason a user reads, and whose failure it was.</summary>
public static class JobFailure
{
    public static TrialSummary Of(JobSpec job, Exception exception) => new()
    {
        Name = job.JobId, Status = TrialStatus.Failed, FailureReason = exception.Message, Environmental = IsEnvironmental(exception),
    };

    /// <summary>
    /// The machine's failure, not the trial's: the disk filled or failed, memory ran out, a file could not be reached.
    /// A dataset missing on this node is too (it runs once installed). Other bad settings are <see cref="UserInputException"/>s,
    /// and a diverging trial is a result, not an exception.
    /// </summary>
    public static bool IsEnvironmental(Exception exception) => exception switch
    {
        MissingDatasetException => true,
        UserInputException => false,
        IOException or OutOfMemoryException or UnauthorizedAccessException => true,
        _ when Distillation.Training.PackSizing.IsOutOfMemory(exception) => true, // libtorch's allocators: CUDA's, the CPU's
        AggregateException { InnerExceptions: var inner } => inner.Any(IsEnvironmental),
        _ => exception.InnerException is { } inner && IsEnvironmental(inner),
    };
}
