using Orchestrator.Distillation.Data;
using TorchSharp;
using static Orchestrator.Distillation.Models.Zoo.ZooLayers;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Orchestrator.Distillation.Models.Zoo;

/// <summary>
/// MobileNetV2 (Sandler et al., 2018) as the KD literature's CIFAR student (CRD's mobile_half, "MobileNetV2" in the
/// CRD and DKD tables): width 0.5, expansion 6, a stride-2 3x3 stem, inverted residual blocks (1x1 expand, 3x3
/// depthwise, 1x1 project; a residual where stride and channels stay), a 1x1 convolution to 1280 channels, global pooling.
/// </summary>
sealed class MobileNetV2Family : ModelFamily
{
    const double WidthMultiplier = 0.5;
    const int Expansion = 6, LastChannels = 1280;

    /// <summary>Per stage: expansion, output channels (before the width multiplier), blocks, first stride.</summary>
    static readonly (int Expand, int Channels, int Blocks, int Stride)[] Stages =
        [(1, 16, 1, 1), (Expansion, 24, 2, 1), (Expansion, 32, 3, 2), (Expansion, 64, 4, 2), (Expansion, 96, 3, 1), (Expansion, 160, 3, 2), (Expansion, 320, 1, 1)];

    public override string Summary => "MobileNetV2 at width 0.5, the KD literature's CIFAR student";
    public override IEnumerable<string> Patterns => ["mobilenetv2"];
    public override IEnumerable<string> Examples => ["mobilenetv2"];
    public override int ListOrder => 23;

    public override bool Matches(string name) => name == "mobilenetv2";

    public override Classifier Create(ModelSpec spec, DatasetInfo data)
    {
        long input = (long)(32 * WidthMultiplier);
        var layers = new List<(string, Module<Tensor, Tensor>)>
        {
            ("conv1", Path(("0", Conv(data.Channels, input, 3, stride: 2)), ("1", Norm(input)), ("2", ReLU()))),
        };
        for (int s = 0; s < Stages.Length; s++)
        {
            var (expand, channels, blocks, firstStride) = Stages[s];
            long output = (long)(channels * WidthMultiplier);
            var stage = new List<(string, Module<Tensor, Tensor>)>();
            for (int b = 0; b < blocks; b++)
            {
                stage.Add((b.ToString(), InvertedResidual(input, output, b == 0 ? firstStride : 1, expand)));
                input = output;
            }
            layers.Add(($"blocks{s}", Sequential(stage)));
        }
        layers.Add(("conv2", Path(("0", Conv(input, LastChannels, 1)), ("1", Norm(LastChannels)), ("2", ReLU()))));
        return new ZooNetwork(spec.Name, layers, LastChannels, data.Classes, spec.Dropout ?? 0, stagePrefix: "blocks");
    }

    static Module<Tensor, Tensor> InvertedResidual(long input, long output, long stride, int expand)
    {
        long hidden = input * expand;
        var conv = Path(
            ("0", Conv(input, hidden, 1)), ("1", Norm(hidden)), ("2", ReLU()),
            ("3", Conv(hidden, hidden, 3, stride, groups: hidden)), ("4", Norm(hidden)), ("5", ReLU()),
            ("6", Conv(hidden, output, 1)), ("7", Norm(output)));
        return stride == 1 && input == output ? new Branches(Merge.Add, ("conv", conv), ("shortcut", IdentityPath())) : conv;
    }
}
