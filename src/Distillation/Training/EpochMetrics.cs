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

/// <summary>
/// How a trial ended: the one outcome from the trainer to a trial's summary (<see cref="Trials.TrialReports.ToSummary"/>).
/// Test accuracy is measured once, on the checkpoint chosen on validation. The trainer gives the first six; the run
/// that loaded the trial's data, model and teachers adds what a report needs beside them (<see cref="Trials.TrialRunner"/>).
/// </summary>
public sealed record TrainingResult(
    TrialStatus Status,
    string? FailureReason,
    IReadOnlyList<EpochMetrics> Epochs,
    int BestEpoch,
    double BestValidationAccuracy,
    double? TestAccuracy)
{
    public string Device { get; init; } = "";
    public long Parameters { get; init; }
    /// <summary>What the trained model costs (<see cref="Models.ModelCost"/>); null when it trained no epoch.</summary>
    public Models.ModelCost? Cost { get; init; }
    public long? TeacherParameters { get; init; }
    public double? TeacherTestAccuracy { get; init; }
    public string DatasetFingerprint { get; init; } = "";
    public string ConfigurationHash { get; init; } = "";
    /// <summary>The soft-target artifact the student read (its key), "online", or empty without a teacher.</summary>
    public string SoftTargets { get; init; } = "";
    /// <summary>Things worth reporting that did not stop the run (a rejected soft-target file, generated again).</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];
}
