using System.Text.RegularExpressions;
using Orchestrator.Distillation.Data;
using TorchSharp;
using TorchSharp.Modules;
using static Orchestrator.Distillation.Models.Zoo.ZooLayers;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Orchestrator.Distillation.Models.Zoo;

/// <summary>
/// The CIFAR ResNets of He et al. (2016) as the KD literature builds them (CRD's resnet.py): a 3x3 stem, three stages of
/// (depth - 2) / 6 basic blocks each at strides 1, 2, 2, global pooling. <c>resnet&lt;depth&gt;</c> has 16-16-32-64
/// channels (resnet8 ... resnet110); <c>resnet&lt;depth&gt;x&lt;w&gt;</c> has 8w-16w-32w-64w (resnet8x4 and resnet32x4:
/// 32-64-128-256).
/// </summary>
sealed partial class ResNetFamily : ModelFamily
{
    [GeneratedRegex(@"^resnet(\d+)(?:x(\d+))?$")]
    private static partial Regex Name();

    const int MaxDepth = 1202, MaxWidth = 16;

    public override string Summary => "CIFAR ResNets of the KD literature (CRD, DKD): depth 6n + 2; x<w> the wide variant (resnet8x4, resnet32x4)";
    public override IEnumerable<string> Patterns => ["resnet<depth>[x<w>]"];
    public override IEnumerable<string> Examples => ["resnet8", "resnet20", "resnet32", "resnet56", "resnet110", "resnet8x4", "resnet32x4"];
    public override int ListOrder => 20;

    public override bool Matches(string name) => Name().IsMatch(name);

    public override void Validate(ModelSpec spec) => Shape(spec.Name);

    static (int Blocks, long[] Channels) Shape(string name)
    {
        var match = Name().Match(name);
        if (!int.TryParse(match.Groups[1].Value, out int depth) || depth < 8 || depth > MaxDepth || (depth - 2) % 6 != 0)
            throw new UserInputException($"model '{name}': a CIFAR ResNet's depth is 6n + 2 between 8 and {MaxDepth} (resnet8, resnet14, resnet20, resnet32, resnet56, resnet110).");
        if (!match.Groups[2].Success) return ((depth - 2) / 6, [16, 16, 32, 64]);
        if (!int.TryParse(match.Groups[2].Value, out int width) || width < 2 || width > MaxWidth)
            throw new UserInputException($"model '{name}': the width after x is between 2 and {MaxWidth} (resnet8x4: 32-64-128-256 channels); write resnet{depth} for the plain one.");
        return ((depth - 2) / 6, [8 * width, 16 * width, 32 * width, 64 * width]);
    }

    public override Classifier Create(ModelSpec spec, DatasetInfo data)
    {
        var (blocks, channels) = Shape(spec.Name);
        var layers = new List<(string, Module<Tensor, Tensor>)>
        {
            ("conv1", Conv(data.Channels, channels[0], 3)), ("bn1", Norm(channels[0])), ("relu", ReLU()),
        };
        long output = Stages(layers, "layer", channels[0], channels[1..], blocks, BasicBlock);
        return new ZooNetwork(spec.Name, layers, output, data.Classes, spec.Dropout ?? 0, stagePrefix: "layer");
    }

    /// <summary>relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)); the shortcut a strided 1x1 convolution where the shape changes.</summary>
    static Module<Tensor, Tensor> BasicBlock(long input, long output, long stride)
    {
        var main = Path(("conv1", Conv(input, output, 3, stride)), ("bn1", Norm(output)), ("relu", ReLU()), ("conv2", Conv(output, output, 3)), ("bn2", Norm(output)));
        var shortcut = stride != 1 || input != output ? Path(("0", Conv(input, output, 1, stride)), ("1", Norm(output))) : IdentityPath();
        return Path(("sum", new Branches(Merge.Add, ("main", main), ("downsample", shortcut))), ("relu", ReLU()));
    }
}
