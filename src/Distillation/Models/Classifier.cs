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

    public long ParameterCount => parameters().Sum(p => p.numel());
}
