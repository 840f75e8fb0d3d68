using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Orchestrator.Distillation.Models;

/// <summary>
/// A plain convolutional classifier described by a layer list: 3x3 convolutions (padding 1, optional BatchNorm,
/// ReLU) and 2x2 max-pools, then fully connected ReLU layers with dropout, then the linear classifier.
/// Input channels and image size come from the dataset, so the same architecture runs on 28x28 grey or 32x32 colour.
/// </summary>
public sealed class ConvNet : Classifier
{
    /// <summary>A convolution with this many output channels, or a max-pool when <see cref="Pool"/>.</summary>
    public readonly record struct Layer(int Channels)
    {
        public static readonly Layer Pool = new(0);
        public bool IsPool => Channels == 0;
    }

    private readonly Sequential features;
    private readonly Sequential hidden;
    private readonly Linear head;

    public ConvNet(string name, int inputChannels, int imageSide, IReadOnlyList<Layer> convLayers, bool batchNorm,
        IReadOnlyList<int> fullyConnected, double dropout, int classes) : base(name)
    {
        var conv = new List<(string, Module<Tensor, Tensor>)>();
        int channels = inputChannels, side = imageSide, index = 0;
        foreach (var layer in convLayers)
        {
            index++;
            if (layer.IsPool)
            {
                conv.Add(($"pool{index}", MaxPool2d(2)));
                side /= 2;
                continue;
            }
            conv.Add(($"conv{index}", Conv2d(channels, layer.Channels, 3, padding: 1)));
            if (batchNorm) conv.Add(($"bn{index}", BatchNorm2d(layer.Channels)));
            conv.Add(($"relu{index}", ReLU()));
            channels = layer.Channels;
        }
        if (side < 1) throw new UserInputException($"model '{name}' pools a {imageSide}x{imageSide} image below 1x1; use a larger input.");
        conv.Add(("flatten", Flatten()));
        features = Sequential(conv);

        hidden = Sequential(HiddenLayers.FullyConnected(channels * side * side, fullyConnected, dropout, out int width));
        head = Linear(width, classes);
        RegisterComponents();
    }

    public override (Tensor Logits, Tensor Embedding) Features(Tensor images)
    {
        var embedding = hidden.forward(features.forward(images));
        return (head.forward(embedding), embedding);
    }

    public override IEnumerable<(string Key, Module Layer)> Layers() =>
        [("features", features), ("hidden", hidden), ("head", head)];
}
