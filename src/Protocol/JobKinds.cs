using Orchestrator.Protocol.V1;

namespace Orchestrator.Protocol;

/// <summary>What each <see cref="JobKind"/> does, where the scheduler, the node and the CLI must agree on it.</summary>
public static class JobKinds
{
    /// <summary>A teacher, a distilled student or a student alone: it trains a model, epoch by epoch, with a seed.
    /// The other kinds generate or combine soft targets.</summary>
    public static bool TrainsTrial(JobKind kind) => kind is JobKind.Teacher or JobKind.Student or JobKind.Baseline;
}
