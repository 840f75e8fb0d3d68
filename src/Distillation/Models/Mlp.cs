using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Orchestrator.Distillation.Models;

/// <summary>Flattened input, hidden ReLU layers (each optionally followed by dropout), then a linear classifier.</summary>
public sealed class Mlp : Classifier
{
    private readonly Sequential body;
    private readonly Linear head;

    public Mlp(int inputs, IReadOnlyList<int> hidden, int classes, double dropout) : base("mlp")
    {
        var layers = HiddenLayers.FullyConnected(inputs, hidden, dropout, out int width);
        layers.Insert(0, ("flatten", Flatten()));
        body = Sequential(layers);
        head = Linear(width, classes);
        RegisterComponents();
    }

    public override (Tensor Logits, Tensor Embedding) Features(Tensor images)
    {
        var embedding = body.forward(images);
        return (head.forward(embedding), embedding);
    }

    public override IEnumerable<(string Key, Module Layer)> Layers() =>
        [("body", body), ("head", head)];
}
