using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Models;

/// <summary>
/// The students one training step runs together: K models fused into one (<see cref="PackedClassifier"/>), or one
/// model run as it is (<see cref="UnfusedStudent"/>). The trainer, optimizer and loss see the same shapes from both.
/// </summary>
public interface IStudentPack : IDisposable
{
    /// <summary>
    /// The pack the trainer runs for these models: one model alone runs as it is (the fused path's per-trial slices
    /// and stacking cost a single student about 10 %: docs/benchmarks.md, zoo), several are fused into one.
    /// </summary>
    /// <param name="stages">The stages whose feature maps each forward keeps (<see cref="Maps"/>): what feature losses compare.</param>
    static IStudentPack Of(IReadOnlyList<Classifier> models, IReadOnlyList<string>? stages = null) => models switch
    {
        [var alone] => new UnfusedStudent(alone, stages),
        _ when models.FirstOrDefault(m => !m.Fusable) is { } unfusable =>
            throw new ArgumentException($"a {unfusable.GetType().Name} cannot share a pack; it trains alone", nameof(models)),
        _ => new PackedClassifier(models, stages),
    };

    /// <summary>How many trials the pack holds.</summary>
    int Count { get; }

    /// <summary>
    /// Whether its trials run as one fused model: each weight with a leading trial axis [K, ...], and each trial's random
    /// draws (dropout masks, triplet negatives) from a generator of its own (<see cref="Generators"/>). Else one model
    /// runs as it is, with its own weights, drawing from the global generator as a model alone does.
    /// </summary>
    bool Fused { get; }

    /// <summary>Each trial's generator for its random draws, set by the trainer every epoch when <see cref="Fused"/>; null draws from the global one.</summary>
    IReadOnlyList<Generator?> Generators { get; set; }

    /// <summary>The weights that train, by the single model's state-dict key.</summary>
    IEnumerable<(string Key, Tensor Weight)> Parameters();

    /// <summary>Logits [K, B, classes] and embeddings [K, B, width] (null when the model gives none) for one batch of images [B, C, H, W].</summary>
    (Tensor Logits, Tensor Embedding) Features(Tensor images, bool training);

    /// <summary>The feature maps [K, B, C, H, W] of the stages it was made for, from the last <see cref="Features"/>; empty for none.</summary>
    IReadOnlyList<Tensor> Maps { get; }

    /// <summary>
    /// The <see cref="Maps"/> through each trial's <see cref="HintRegressor"/> [K, B, C', H, W], from the last
    /// <see cref="Features"/>; empty when the models have none.
    /// </summary>
    IReadOnlyList<Tensor> Hints { get; }

    /// <summary>Trial <paramref name="trial"/>'s weights and buffers into an ordinary model of the same architecture.</summary>
    void CopyTo(int trial, Classifier target);

    /// <summary>An ordinary model's weights and buffers into trial <paramref name="trial"/>.</summary>
    void CopyFrom(int trial, Classifier source);

    /// <summary>Keeps only these trials, in this order (the others ended); an optimizer over the old weights is rebuilt.</summary>
    void Keep(IReadOnlyList<int> trials);
}
