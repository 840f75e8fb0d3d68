using Google.Protobuf;

namespace Orchestrator.Coordinator.State;

/// <summary>
/// What a command comes to: the events to persist (in order), the jobs to hand the scheduler once they are
/// applied (those that <see cref="SweepState.CanRun"/> then; after <see cref="HandOverAfter"/>, a retry's backoff), and the reply.
/// </summary>
public sealed record Decision(IReadOnlyList<IMessage> Events, IReadOnlyList<string> HandOver, IMessage? Reply)
{
    public static readonly Decision None = new([], [], null);

    public TimeSpan HandOverAfter { get; init; }

    /// <summary>Events alone: no hand-over, no reply.</summary>
    public static Decision Only(IReadOnlyList<IMessage> events) => events.Count == 0 ? None : new(events, [], null);
}

/// <summary>What applying an event changed that its actor must act on: the jobs the sweep stopped or marked to stop (the scheduler drops or stops them).</summary>
public sealed record Applied(IReadOnlyList<string> StoppedJobs)
{
    public static readonly Applied Nothing = new([]);
}
