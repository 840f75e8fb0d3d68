using Orchestrator.Distillation.Data;
using TorchSharp;
using static Orchestrator.Distillation.Models.Zoo.ZooLayers;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Orchestrator.Distillation.Models.Zoo;

/// <summary>
/// VGG with BatchNorm (Simonyan and Zisserman, 2015) as the KD literature builds it for CIFAR (CRD's vgg.py, its *_bn
/// variants): five blocks of 3x3 convolutions, 2x2 max-pools after the first three (and after the fourth on images of
/// 64 pixels or more), global pooling, one linear layer. vgg8 is the literature's small student (one convolution a block).
/// </summary>
sealed class VggFamily : ModelFamily
{
    static readonly Dictionary<string, int[][]> Blocks = new()
    {
        ["vgg8"] = [[64], [128], [256], [512], [512]],
        ["vgg11"] = [[64], [128], [256, 256], [512, 512], [512, 512]],
        ["vgg13"] = [[64, 64], [128, 128], [256, 256], [512, 512], [512, 512]],
        ["vgg16"] = [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]],
        ["vgg19"] = [[64, 64], [128, 128], [256, 256, 256, 256], [512, 512, 512, 512], [512, 512, 512, 512]],
    };

    public override string Summary => "VGG with BatchNorm for CIFAR (vgg13 teaches vgg8 in CRD and DKD)";
    public override IEnumerable<string> Patterns => Blocks.Keys;
    public override IEnumerable<string> Examples => Blocks.Keys;
    public override int ListOrder => 22;

    public override bool Matches(string name) => Blocks.ContainsKey(name);

    public override Classifier Create(ModelSpec spec, DatasetInfo data)
    {
        var layers = new List<(string, Module<Tensor, Tensor>)>();
        long input = data.Channels;
        var blocks = Blocks[spec.Name];
        for (int b = 0; b < blocks.Length; b++)
        {
            var block = new List<(string, Module<Tensor, Tensor>)>();
            foreach (int channels in blocks[b])
            {
                int at = block.Count;
                block.Add((at.ToString(), Conv(input, channels, 3, bias: true)));
                block.Add(((at + 1).ToString(), Norm(channels)));
                block.Add(((at + 2).ToString(), ReLU()));
                input = channels;
            }
            layers.Add(($"block{b}", Sequential(block)));
            if (b < 3 || (b == 3 && data.Height >= 64)) layers.Add(($"pool{b}", MaxPool2d(2, 2)));
        }
        return new ZooNetwork(spec.Name, layers, input, data.Classes, spec.Dropout ?? 0, stagePrefix: "block");
    }
}
