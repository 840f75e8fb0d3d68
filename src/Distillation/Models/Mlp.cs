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
        var layers = new List<(string, Module<Tensor, Tensor>)> { ("flatten", Flatten()) };
        int width = inputs;
        for (int i = 0; i < hidden.Count; i++)
        {
            layers.Add(($"fc{i + 1}", Linear(width, hidden[i])));
            layers.Add(($"relu{i + 1}", ReLU()));
            if (dropout > 0) layers.Add(($"dropout{i + 1}", Dropout(dropout)));
            width = hidden[i];
        }
        body = Sequential(layers);
        head = Linear(width, classes);
        RegisterComponents();
    }

    public override (Tensor Logits, Tensor Embedding) Features(Tensor images)
    {
        var embedding = body.forward(images);
        return (head.forward(embedding), embedding);
    }
}
