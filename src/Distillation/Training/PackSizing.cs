using Orchestrator.Distillation.Configuration;
using Orchestrator.Distillation.Models;

namespace Orchestrator.Distillation.Training;

/// <summary>
/// Which trials may train as one pack (<see cref="Trainer"/>), and how many: a sweep's <c>execution: { pack: auto | N }</c>.
/// Pack-mates share what one step reads once or one loop runs once: the model's architecture, the data and its split,
/// batch size, epochs, seed and augmentation (so one data order, one batch per step), the optimizer kind, the loss terms and
/// features and standardisation, and the teachers. They may differ in alpha, temperature, per-term weights and options
/// (DKD's beta, ...), warm-up, margin, learning rate and its schedule, weight decay, momentum, dropout rate and patience.
/// </summary>
public static class PackSizing
{
    /// <summary>
    /// Auto on a GPU: 32 trials, where a small student's step is launch-bound (the issue measured 450 steps/s at batch
    /// 256 on an H100 whatever the model's width); not measured here, since no GPU was lent.
    /// </summary>
    public const int AutoGpu = 32;

    /// <summary>The most trials that may share a pack: beyond, one trial's failure (a crash) costs too many their epoch.</summary>
    public const int Max = 64;

    /// <summary>What pack-mates share, as a short hash; equal keys may train as one pack.</summary>
    public static string Key(TrialConfig trial) => ContentHash.Of(new
    {
        Model = trial.Model.Name,
        trial.Data,
        trial.Training.BatchSize,
        trial.Training.Epochs,
        trial.Training.Seed,
        trial.Training.Augment,
        Optimizer = new { trial.Training.Optimizer.Name, trial.Training.Optimizer.Nesterov },
        Terms = trial.Loss.Weights.Keys.Order(StringComparer.Ordinal).ToList(),
        Feature = trial.Loss.WithoutUnusedSettings().Feature,
        trial.Loss.WithoutUnusedSettings().Standardize,
        trial.Loss.WithoutUnusedSettings().Stages,
        // The teachers and what the students compute from them (their recipe, as a trial's identity has it).
        Teacher = trial.Loss.NeedsTeacher && trial.Teacher is { } teacher ? new { teacher.Members, teacher.Recipe } : null,
    });

    /// <summary>
    /// The most trials of this trial's pack on a CPU slot and on a GPU slot, for a sweep's <c>pack</c> (0: auto). Auto
    /// on a CPU is the model family's (<see cref="ModelFamily.AutoPackOnCpu"/>): measured on 2 cores (docs/benchmarks.md,
    /// packs), mlp-400 gains 1.3x at K = 8 from cached soft targets and 5.1x with three online teachers (their forward is
    /// shared), and little beyond 8; bncnn-student loses (0.58x at K = 8), its convolutions already fill the cores.
    /// A family whose students cannot share a pack (a TorchScript student) trains each alone, whatever the sweep asks.
    /// </summary>
    public static (int Cpu, int Gpu) Limits(int pack, TrialConfig trial)
    {
        var family = ModelRegistry.Validate(trial.Model);
        return !family.Packs ? (1, 1) : pack > 0 ? (pack, pack) : (family.AutoPackOnCpu, AutoGpu);
    }

    /// <summary>
    /// Trains <paramref name="trials"/> with <paramref name="train"/>; when the device runs out of memory, trains each half
    /// of the trials that have not ended yet (<paramref name="ended"/>), halving again down to one trial, whose own
    /// out-of-memory error is the trials' failure. Each trial resumes from its last checkpoint, so nothing is lost but
    /// the epoch under way. What makes <c>auto</c>'s 32 on a GPU safe for a model too large for 32 copies.
    /// </summary>
    public static void HalvingOnOutOfMemory<T>(IReadOnlyList<T> trials, Action<IReadOnlyList<T>> train, Func<T, bool> ended, Action<string>? log = null)
    {
        try
        {
            train(trials);
        }
        catch (Exception e) when (IsOutOfMemory(e) && trials.Count(t => !ended(t)) > 1)
        {
            var left = trials.Where(t => !ended(t)).ToList();
            log?.Invoke($"a pack of {left.Count} trials ran out of memory ({e.Message.Split('\n')[0]}); training them as two packs of {left.Count / 2} and {left.Count - left.Count / 2}");
            HalvingOnOutOfMemory(left[..(left.Count / 2)], train, ended, log);
            HalvingOnOutOfMemory(left[(left.Count / 2)..], train, ended, log);
        }
    }

    /// <summary>libtorch's allocators' errors: CUDA's "CUDA out of memory", the CPU's "not enough memory".</summary>
    public static bool IsOutOfMemory(Exception e) =>
        e.Message.Contains("out of memory", StringComparison.OrdinalIgnoreCase) || e.Message.Contains("not enough memory", StringComparison.OrdinalIgnoreCase)
        || e.InnerException is { } inner && IsOutOfMemory(inner);
}
