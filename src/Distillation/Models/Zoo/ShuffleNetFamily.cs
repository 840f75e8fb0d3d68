using Orchestrator.Distillation.Data;
using TorchSharp;
using TorchSharp.Modules;
using static Orchestrator.Distillation.Models.Zoo.ZooLayers;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Orchestrator.Distillation.Models.Zoo;

/// <summary>
/// ShuffleNetV1 (Zhang et al., 2018; groups 3, 240-480-960 channels) and ShuffleNetV2 (Ma et al., 2018; 1x, 116-232-464
/// channels then 1024) as the KD literature's CIFAR students (CRD's ShuffleV1 and ShuffleV2): grouped 1x1 convolutions,
/// 3x3 depthwise convolutions and channel shuffles, global pooling.
/// </summary>
sealed class ShuffleNetFamily : ModelFamily
{
    public override string Summary => "ShuffleNetV1 (groups 3) and V2 (1x), the KD literature's CIFAR students";
    public override IEnumerable<string> Patterns => ["shufflenetv1", "shufflenetv2"];
    public override IEnumerable<string> Examples => Patterns;
    public override int ListOrder => 24;

    public override bool Matches(string name) => name is "shufflenetv1" or "shufflenetv2";

    public override Classifier Create(ModelSpec spec, DatasetInfo data) =>
        spec.Name == "shufflenetv1" ? Version1(spec, data) : Version2(spec, data);

    const long Stem = 24;

    static Classifier Version1(ModelSpec spec, DatasetInfo data)
    {
        const long groups = 3;
        var layers = new List<(string, Module<Tensor, Tensor>)> { ("conv1", Conv(data.Channels, Stem, 1)), ("bn1", Norm(Stem)), ("relu", ReLU()) };
        long input = Stem;
        foreach (var (stage, output, blocks) in new[] { (1, 240L, 4), (2, 480L, 8), (3, 960L, 4) })
        {
            var units = new List<(string, Module<Tensor, Tensor>)>();
            for (int b = 0; b < blocks; b++)
            {
                // A strided unit concatenates its input (pooled) to its output, so its own path makes only the difference.
                units.Add((b.ToString(), Bottleneck(input, b == 0 ? output - input : output, b == 0 ? 2 : 1, input == Stem ? 1 : groups, groups)));
                input = output;
            }
            layers.Add(($"layer{stage}", Sequential(units)));
        }
        return new ZooNetwork(spec.Name, layers, input, data.Classes, spec.Dropout ?? 0, stagePrefix: "layer");
    }

    static Sequential Bottleneck(long input, long output, long stride, long firstGroups, long groups)
    {
        long middle = output / 4;
        var main = Path(
            ("conv1", Conv(input, middle, 1, groups: firstGroups)), ("bn1", Norm(middle)), ("relu1", ReLU()), ("shuffle1", new ChannelShuffle(firstGroups)),
            ("conv2", Conv(middle, middle, 3, stride, groups: middle)), ("bn2", Norm(middle)), ("relu2", ReLU()),
            ("conv3", Conv(middle, output, 1, groups: groups)), ("bn3", Norm(output)));
        var merged = stride == 2
            ? new Branches(Merge.Concat, ("main", main), ("shortcut", Path(("0", AvgPool2d(3, 2, 1)))))
            : new Branches(Merge.Add, ("main", main), ("shortcut", IdentityPath()));
        return Path(("merge", merged), ("relu", ReLU()));
    }

    static Classifier Version2(ModelSpec spec, DatasetInfo data)
    {
        const long last = 1024;
        var layers = new List<(string, Module<Tensor, Tensor>)> { ("conv1", Conv(data.Channels, Stem, 3)), ("bn1", Norm(Stem)), ("relu1", ReLU()) };
        long input = Stem;
        foreach (var (stage, output, blocks) in new[] { (1, 116L, 3), (2, 232L, 7), (3, 464L, 3) })
        {
            var units = new List<(string, Module<Tensor, Tensor>)> { ("0", DownBlock(input, output)) };
            for (int b = 1; b <= blocks; b++) units.Add((b.ToString(), SplitBlock(output)));
            layers.Add(($"layer{stage}", Sequential(units)));
            input = output;
        }
        layers.AddRange([("conv2", Conv(input, last, 1)), ("bn2", Norm(last)), ("relu2", ReLU())]);
        return new ZooNetwork(spec.Name, layers, last, data.Classes, spec.Dropout ?? 0, stagePrefix: "layer");
    }

    /// <summary>Half the channels pass untouched, the other half through 1x1, depthwise 3x3 and 1x1 convolutions; then a shuffle.</summary>
    static Sequential SplitBlock(long channels)
    {
        long half = channels / 2;
        var right = Path(
            ("split", new ChannelSlice(half, channels - half)),
            ("conv1", Conv(channels - half, channels - half, 1)), ("bn1", Norm(channels - half)), ("relu1", ReLU()),
            ("conv2", Conv(channels - half, channels - half, 3, groups: channels - half)), ("bn2", Norm(channels - half)),
            ("conv3", Conv(channels - half, channels - half, 1)), ("bn3", Norm(channels - half)), ("relu3", ReLU()));
        return Path(("merge", new Branches(Merge.Concat, ("left", Path(("split", new ChannelSlice(0, half)))), ("right", right))), ("shuffle", new ChannelShuffle(2)));
    }

    /// <summary>Both halves halve the size: a depthwise then a 1x1 convolution, and a 1x1, depthwise and 1x1; concatenated, shuffled.</summary>
    static Sequential DownBlock(long input, long output)
    {
        long middle = output / 2;
        var left = Path(
            ("conv1", Conv(input, input, 3, 2, groups: input)), ("bn1", Norm(input)),
            ("conv2", Conv(input, middle, 1)), ("bn2", Norm(middle)), ("relu2", ReLU()));
        var right = Path(
            ("conv3", Conv(input, middle, 1)), ("bn3", Norm(middle)), ("relu3", ReLU()),
            ("conv4", Conv(middle, middle, 3, 2, groups: middle)), ("bn4", Norm(middle)),
            ("conv5", Conv(middle, middle, 1)), ("bn5", Norm(middle)), ("relu5", ReLU()));
        return Path(("merge", new Branches(Merge.Concat, ("left", left), ("right", right))), ("shuffle", new ChannelShuffle(2)));
    }
}
