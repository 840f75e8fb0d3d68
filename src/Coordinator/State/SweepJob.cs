using Google.Protobuf;
using Orchestrator.Coordinator.Results;
using Orchestrator.Protocol.V1;
using PlannedJob = Orchestrator.Protocol.V1.PlannedJob;

namespace Orchestrator.Coordinator.State;

/// <summary>A job as the sweep's state holds it: its plan stays in its chunk's bytes (<see cref="PlanChunk"/>), its summary serialized.</summary>
public sealed class SweepJob(PlanChunk chunk, PlanChunk.Entry entry, int index)
{
    readonly PlanChunk.Entry entry = entry;
    byte[]? summary;

    public string Id => entry.Id;
    public JobKind Kind => entry.Kind;
    /// <summary>Its place in the plan: what ranks equal points, and what a snapshot names it by.</summary>
    public int Index { get; } = index;
    /// <summary>Parsed from the plan's bytes on each call: a fresh message, the caller's to keep.</summary>
    public PlannedJob Plan => chunk.Job(entry);
    public JobState State { get; internal set; } = JobState.Queued;
    /// <summary>Parsed on each call, as <see cref="Plan"/>; 300-odd bytes per finished trial, where the parsed message is about twice that.</summary>
    public TrialSummary? Summary
    {
        get => summary is null ? null : TrialSummary.Parser.ParseFrom(summary);
        internal set => summary = value?.ToByteArray();
    }
    public byte[]? SummaryBytes { get => summary; internal set => summary = value; }
    public int Crashes { get; internal set; }
    public int EnvironmentalRetries { get; internal set; }
    public string Node { get; internal set; } = "";
    public int Slot { get; internal set; }
    /// <summary>The attempt this incarnation handed over last (0: none): the only one whose reports count.</summary>
    public long Attempt { get; internal set; }
    /// <summary>It started at least once (it may have a checkpoint to resume from).</summary>
    public bool Started { get; internal set; }
    // Made on the first link: most jobs of a large sweep have one dependency or none, and no dependents.
    List<SweepJob>? dependents, dependencies;
    public IReadOnlyList<SweepJob> Dependents => (IReadOnlyList<SweepJob>?)dependents ?? [];
    public IReadOnlyList<SweepJob> Dependencies => (IReadOnlyList<SweepJob>?)dependencies ?? [];

    internal void DependsOn(SweepJob on)
    {
        (dependencies ??= []).Add(on);
        (on.dependents ??= []).Add(this);
    }

    public bool Finished => JobStates.IsFinished(State);
    public bool DependenciesDone => Dependencies.All(d => d.State == JobState.Done);
    /// <summary>A student of a sweep that may stop students (early termination, metric.target); null otherwise.</summary>
    internal StudentTrace? Trace { get; set; }
    public string? StopReason => Trace?.StopReason;
}
