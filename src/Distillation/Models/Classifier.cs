using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Models;

/// <summary>
/// An image classifier that also exposes its penultimate embedding (the input of the last linear layer),
/// which the relational and triplet losses compare between teacher and student.
/// </summary>
public abstract class Classifier(string name) : nn.Module<Tensor, Tensor>(name)
{
    /// <summary>Logits [B, classes] and embedding [B, EmbeddingSize] for a batch of images [B, C, H, W].</summary>
    public abstract (Tensor Logits, Tensor Embedding) Features(Tensor images);

    public override Tensor forward(Tensor images) => Features(images).Logits;

    /// <summary>
    /// The top-level layers in the order the forward runs them, each with its state-dict key prefix; the last is the
    /// classifier head, whose input is the embedding. A layer may be a <see cref="TorchSharp.Modules.Sequential"/> or
    /// <see cref="Branches"/> of further layers. <see cref="PackedClassifier"/> fuses K models from this tree, and
    /// <see cref="ModelExport"/> describes it for PyTorch.
    /// </summary>
    public abstract IEnumerable<(string Key, nn.Module Layer)> Layers();

    /// <summary>Whether <see cref="PackedClassifier"/> can fuse it with others of its architecture (its <see cref="Layers"/> are known).</summary>
    public virtual bool Fusable => true;

    public virtual long ParameterCount => parameters().Sum(p => p.numel());
}
