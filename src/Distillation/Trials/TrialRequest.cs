using Orchestrator.Distillation.Configuration;
using Orchestrator.Distillation.Training;
using Proto = Orchestrator.Protocol.V1;

namespace Orchestrator.Distillation.Trials;

/// <summary>
/// One trial to run, the same from a job spec (or a trial file) to the trainer: its settings and folder, the sweep's
/// attempt it is, where its epochs go, how it is told to end early, and who hears its summary.
/// </summary>
/// <param name="Attempt">The sweep's attempt number of this run (<see cref="Proto.JobSpec.Attempt"/>); 0 for a trial run by hand, which is not fenced.</param>
public sealed record TrialRequest(TrialConfig Config, string OutputDirectory, long Attempt = 0)
{
    public Action<EpochMetrics>? OnEpoch { get; init; }

    /// <summary>Ends it after its batch, to resume later from its last checkpoint (its node stops, its sweep is cancelled).</summary>
    public CancellationToken Cancellation { get; init; }

    /// <summary>Its sweep stopped it: it ends after its batch with its best checkpoint's test accuracy (<see cref="TrainerTrial.Stop"/>).</summary>
    public CancellationToken Stop { get; init; }

    /// <summary>Hears its summary once, when it ends (<see cref="TrialExecution"/> writes summary.json first).</summary>
    public Action<Proto.TrialSummary>? Done { get; init; }

    /// <summary>The claim on its folder for <see cref="Attempt"/> (<see cref="TrainerTrial.Fence"/>), once <see cref="TrialExecution"/> made it; null for a trial run by hand.</summary>
    public AttemptFence? Fence { get; init; }
}
