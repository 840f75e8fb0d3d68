using System.Text.Json.Serialization;

namespace Orchestrator.Distillation.Training;

/// <param name="Name">sgd | adam | adamw</param>
/// <param name="Momentum">SGD only.</param>
/// <param name="Nesterov">SGD only.</param>
public sealed record OptimizerOptions(string Name = "adam", double LearningRate = 1e-3, double Momentum = 0.9, bool Nesterov = false, double WeightDecay = 0)
{
    public static readonly string[] Names = ["sgd", "adam", "adamw"];
}

/// <param name="Name">none | step (multiply by Gamma every StepSize epochs, or at each of Milestones) | cosine (to MinLearningRate at the last epoch)</param>
/// <param name="Milestones">The epochs after which step multiplies by Gamma (mdistiller's 150, 180, 210 of 240); null: every StepSize epochs.</param>
public sealed record ScheduleOptions(string Name = "none", int StepSize = 10, double Gamma = 0.1, double MinLearningRate = 0,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<int>? Milestones = null)
{
    public static readonly string[] Names = ["none", "step", "cosine"];

    /// <summary>The learning rate for a 0-based epoch: a pure function of the epoch, so a resumed run needs no scheduler state.</summary>
    public double LearningRate(double baseRate, int epoch, int epochs) => Name switch
    {
        "step" => baseRate * Math.Pow(Gamma, Milestones is { } at ? at.Count(m => epoch >= m) : epoch / StepSize),
        "cosine" => MinLearningRate + (baseRate - MinLearningRate) * (1 + Math.Cos(Math.PI * epoch / epochs)) / 2,
        _ => baseRate,
    };
}

/// <param name="Patience">Stop after this many epochs without a better validation accuracy; null: never stop early.</param>
/// <param name="Augment">How training batches are augmented; null: not at all (and left out of a trial's identity, so
/// trials without augmentation keep the identity they had before it existed).</param>
public sealed record TrainingOptions(
    int Epochs, int BatchSize, OptimizerOptions Optimizer, ScheduleOptions Schedule, int Seed, int? Patience = null, int EvaluationBatchSize = 4096,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] AugmentOptions? Augment = null);
