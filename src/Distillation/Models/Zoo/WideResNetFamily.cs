using System.Text.RegularExpressions;
using Orchestrator.Distillation.Data;
using TorchSharp;
using TorchSharp.Modules;
using static Orchestrator.Distillation.Models.Zoo.ZooLayers;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Orchestrator.Distillation.Models.Zoo;

/// <summary>
/// Wide ResNets (Zagoruyko and Komodakis, 2016) as the KD literature builds them (CRD's wrn.py): <c>wrn-&lt;depth&gt;-&lt;k&gt;</c>
/// is a 3x3 stem, three stages of (depth - 4) / 6 pre-activation blocks with 16k, 32k and 64k channels at strides 1, 2, 2,
/// then BatchNorm, ReLU and global pooling (wrn-40-2, wrn-16-2, wrn-40-1, wrn-16-1).
/// </summary>
sealed partial class WideResNetFamily : ModelFamily
{
    [GeneratedRegex(@"^wrn-(\d+)-(\d+)$")]
    private static partial Regex Name();

    const int MaxDepth = 1000, MaxWidth = 16;

    public override string Summary => "wide ResNets: depth 6n + 4, widening factor k (wrn-40-2 teaches wrn-16-2 in CRD and DKD)";
    public override IEnumerable<string> Patterns => ["wrn-<depth>-<k>"];
    public override IEnumerable<string> Examples => ["wrn-16-1", "wrn-16-2", "wrn-40-1", "wrn-40-2"];
    public override int ListOrder => 21;

    public override bool Matches(string name) => name.StartsWith("wrn-", StringComparison.Ordinal);

    public override void Validate(ModelSpec spec) => Shape(spec.Name);

    static (int Blocks, int Width) Shape(string name)
    {
        var match = Name().Match(name);
        if (!match.Success || !int.TryParse(match.Groups[1].Value, out int depth) || depth < 10 || depth > MaxDepth || (depth - 4) % 6 != 0)
            throw new UserInputException($"model '{name}': a wide ResNet is wrn-<depth>-<k> with depth 6n + 4 between 10 and {MaxDepth} (wrn-16-2, wrn-40-2).");
        if (!int.TryParse(match.Groups[2].Value, out int width) || width < 1 || width > MaxWidth)
            throw new UserInputException($"model '{name}': the widening factor k is between 1 and {MaxWidth} (wrn-40-2).");
        return ((depth - 4) / 6, width);
    }

    public override Classifier Create(ModelSpec spec, DatasetInfo data)
    {
        var (blocks, width) = Shape(spec.Name);
        long[] channels = [16, 16 * width, 32 * width, 64 * width];
        var layers = new List<(string, Module<Tensor, Tensor>)> { ("conv1", Conv(data.Channels, channels[0], 3)) };
        long output = Stages(layers, "block", channels[0], channels[1..], blocks, PreActivationBlock);
        layers.Add(("bn1", Norm(output)));
        layers.Add(("relu", ReLU()));
        return new ZooNetwork(spec.Name, layers, output, data.Classes, spec.Dropout ?? 0, stagePrefix: "block");
    }

    /// <summary>
    /// conv2(relu(bn2(conv1(relu(bn1(x)))))) + x where the shape stays (as the reference does, whatever the stride); where the
    /// channels change, both paths start from relu(bn1(x)) and the shortcut is a strided 1x1 convolution.
    /// </summary>
    static Module<Tensor, Tensor> PreActivationBlock(long input, long output, long stride)
    {
        var activation = new (string, Module<Tensor, Tensor>)[] { ("bn1", Norm(input)), ("relu1", ReLU()) };
        var convolutions = new (string, Module<Tensor, Tensor>)[]
        {
            ("conv1", Conv(input, output, 3, stride)), ("bn2", Norm(output)), ("relu2", ReLU()), ("conv2", Conv(output, output, 3)),
        };
        if (input == output)
            return Path(("sum", new Branches(Merge.Add, ("main", Path([.. activation, .. convolutions])), ("shortcut", IdentityPath()))));
        return Path([.. activation, ("sum", new Branches(Merge.Add, ("main", Path(convolutions)), ("shortcut", Path(("conv", Conv(input, output, 1, stride))))))]);
    }
}
