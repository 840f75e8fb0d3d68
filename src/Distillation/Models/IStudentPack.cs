using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Models;

/// <summary>
/// The students one training step runs together: K models fused into one (<see cref="PackedClassifier"/>), or one
/// model run as it is (<see cref="UnfusedStudent"/>). The trainer, optimizer and loss see the same shapes from both.
/// </summary>
public interface IStudentPack : IDisposable
{
    /// <summary>How many trials the pack holds.</summary>
    int Count { get; }

    /// <summary>Whether each weight carries a leading trial axis [K, ...]; else the pack is one model's own weights.</summary>
    bool Stacked { get; }

    /// <summary>Each trial's generator for its random draws (dropout masks, triplet negatives), set by the trainer every epoch.</summary>
    IReadOnlyList<Generator?> Generators { get; set; }

    /// <summary>The weights that train, by the single model's state-dict key.</summary>
    IEnumerable<(string Key, Tensor Weight)> Parameters();

    /// <summary>Logits [K, B, classes] and embeddings [K, B, width] (null when the model gives none) for one batch of images [B, C, H, W].</summary>
    (Tensor Logits, Tensor Embedding) Features(Tensor images, bool training);

    /// <summary>Trial <paramref name="trial"/>'s weights and buffers into an ordinary model of the same architecture.</summary>
    void CopyTo(int trial, Classifier target);

    /// <summary>An ordinary model's weights and buffers into trial <paramref name="trial"/>.</summary>
    void CopyFrom(int trial, Classifier source);

    /// <summary>Keeps only these trials, in this order (the others ended); an optimizer over the old weights is rebuilt.</summary>
    void Keep(IReadOnlyList<int> trials);
}
