using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Models;

/// <summary>
/// A pack of one that runs its model as it is: every trial that trains alone, a model whose layers cannot be fused
/// (<see cref="Classifier.Fusable"/>, a TorchScript student) included. The weights that train are the model's own, so
/// copying a trial to and from its model is nothing to do; its outputs gain the pack's leading trial axis of 1.
/// </summary>
/// <param name="stages">The stages whose feature maps each forward keeps (<see cref="Maps"/>).</param>
public sealed class UnfusedStudent(Classifier model, IReadOnlyList<string>? stages = null) : IStudentPack
{
    public int Count => 1;
    public bool Fused => false;
    /// <summary>None of its own: its dropout and triplet negatives draw, in that order, from the global stream, which is what a
    /// fused pack's trial generator copies at the start of each epoch, so a trial draws the same alone or in a pack.</summary>
    public IReadOnlyList<Generator?> Generators { get; set; } = [null];

    public IEnumerable<(string Key, Tensor Weight)> Parameters() => model.named_parameters().Select(p => (p.name, (Tensor)p.parameter));

    public IReadOnlyList<Tensor> Maps { get; private set; } = [];

    public IReadOnlyList<Tensor> Hints { get; private set; } = [];

    public (Tensor Logits, Tensor Embedding) Features(Tensor images, bool training)
    {
        if (model.training != training) model.train(training);
        if (stages is null or [])
        {
            var (logits, embedding) = model.Features(images);
            return (logits.unsqueeze(0), embedding?.unsqueeze(0)!);
        }
        var (stagedLogits, stagedEmbedding, maps) = model.FeatureMaps(images, stages);
        Maps = maps.Select(m => m.unsqueeze(0)).ToList();
        Hints = model.Hint is { } hint ? hint.Map(maps).Select(m => m.unsqueeze(0)).ToList() : [];
        return (stagedLogits.unsqueeze(0), stagedEmbedding.unsqueeze(0));
    }

    public void CopyTo(int trial, Classifier target) => Same(trial, target);
    public void CopyFrom(int trial, Classifier source) => Same(trial, source);

    public void Keep(IReadOnlyList<int> trials)
    {
        if (trials is not [0]) throw new ArgumentException("a pack of one keeps its one trial or ends", nameof(trials));
    }

    void Same(int trial, Classifier other)
    {
        if (trial != 0 || !ReferenceEquals(other, model)) throw new ArgumentException("an unfused pack's one trial is its own model", nameof(other));
    }

    /// <summary>The model belongs to its trial, which disposes it.</summary>
    public void Dispose() { }
}
