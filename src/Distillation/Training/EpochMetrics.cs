namespace Orchestrator.Distillation.Training;

/// <summary>What one epoch measured. Loss terms are unweighted means over the epoch's batches.</summary>
public sealed record EpochMetrics(
    int Epoch,
    double LearningRate,
    double TrainLoss,
    IReadOnlyDictionary<string, double> LossTerms,
    double TrainAccuracy,
    double ValidationLoss,
    double ValidationAccuracy,
    double SamplesPerSecond,
    double Seconds,
    double StepSeconds);

/// <summary>How a run ended. Stopped: its sweep stopped it (early termination); like EarlyStopped, its best checkpoint is its result.</summary>
public enum TrialStatus { Completed, EarlyStopped, Failed, Cancelled, Stopped }

/// <summary>The outcome of a training run. Test accuracy is measured once, on the checkpoint chosen on validation.</summary>
public sealed record TrainingResult(
    TrialStatus Status,
    string? FailureReason,
    IReadOnlyList<EpochMetrics> Epochs,
    int BestEpoch,
    double BestValidationAccuracy,
    double? TestAccuracy);
