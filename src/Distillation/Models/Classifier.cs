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

    /// <summary>
    /// Its stages, whose feature maps the feature losses (attention transfer) compare: <c>stage1</c>, <c>stage2</c>, ...
    /// in forward order, each with the key of the layer whose output it is (a child of a top-level <see cref="Layers"/>
    /// Sequential); none for a model without them.
    /// </summary>
    public virtual IReadOnlyList<(string Stage, string Layer)> StageLayers => [];

    /// <summary>The names of its stages, whose maps <see cref="FeatureMaps"/> gives: its <see cref="StageLayers"/>'.</summary>
    public virtual IReadOnlyList<string> Stages => StageLayers.Select(s => s.Stage).ToList();

    /// <summary>Logits, embedding and the feature maps [B, C, H, W] at the named stages, in their order.</summary>
    public virtual (Tensor Logits, Tensor Embedding, IReadOnlyList<Tensor> Maps) FeatureMaps(Tensor images, IReadOnlyList<string> stages)
    {
        if (stages.Count > 0) throw new NotSupportedException($"{GetType().Name} has no stages");
        var (logits, embedding) = Features(images);
        return (logits, embedding, []);
    }

    /// <summary>Whether <see cref="PackedClassifier"/> can fuse it with others of its architecture (its <see cref="Layers"/> are known).</summary>
    public virtual bool Fusable => true;

    /// <summary>The trained model's parameters: a <see cref="HintRegressor"/> training with it is not part of it.</summary>
    public virtual long ParameterCount => named_parameters().Where(p => !HintRegressor.Owns(p.name)).Sum(p => p.parameter.numel());

    /// <summary>The FitNets regressor training with it (<see cref="AttachHint"/>); null without a hint loss.</summary>
    public HintRegressor? Hint { get; private set; }

    /// <summary>
    /// Makes <paramref name="hint"/> its child under <see cref="HintRegressor.Key"/>: in its state dict, parameters and
    /// checkpoints, outside its <see cref="Layers"/> (its forward and export).
    /// </summary>
    public void AttachHint(HintRegressor hint)
    {
        if (Hint is not null) throw new InvalidOperationException("the model has a hint regressor already");
        register_module(HintRegressor.Key, hint);
        Hint = hint;
    }
}
