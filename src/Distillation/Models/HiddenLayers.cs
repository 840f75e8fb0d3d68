using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Orchestrator.Distillation.Models;

static class HiddenLayers
{
    /// <summary>Linear + ReLU (+ dropout when &gt; 0) for each width, named fc1, relu1, dropout1, ...</summary>
    public static List<(string, Module<Tensor, Tensor>)> FullyConnected(int inputs, IReadOnlyList<int> widths, double dropout, out int outputs)
    {
        var layers = new List<(string, Module<Tensor, Tensor>)>();
        outputs = inputs;
        for (int i = 0; i < widths.Count; i++)
        {
            layers.Add(($"fc{i + 1}", Linear(outputs, widths[i])));
            layers.Add(($"relu{i + 1}", ReLU()));
            if (dropout > 0) layers.Add(($"dropout{i + 1}", Dropout(dropout)));
            outputs = widths[i];
        }
        return layers;
    }
}
