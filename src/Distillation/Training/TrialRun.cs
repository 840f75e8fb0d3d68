using TorchSharp.Modules;

namespace Orchestrator.Distillation.Training;

/// <summary>One trial's run: its optimizer in the single-model format, its progress and its best weights.</summary>
sealed class TrialRun(TrainerTrial trial, OptimizerHelper optimizer, CheckpointState progress, BestWeights best) : IDisposable
{
    public TrainerTrial Trial => trial;
    public OptimizerHelper Optimizer => optimizer;
    public CheckpointState Progress { get; set; } = progress;
    public BestWeights Best => best;
    public List<EpochMetrics> History { get; } = progress.History.ToList();
    public TrialStatus Status { get; set; } = TrialStatus.Completed;
    public string? Failure { get; set; }
    public bool Ended { get; set; }
    /// <summary>Set once the trial has ended and reported.</summary>
    public TrainingResult? Result { get; set; }

    public void Dispose()
    {
        optimizer.Dispose();
        best.Dispose();
    }
}
