using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Orchestrator.Distillation.Models.Zoo;

/// <summary>
/// A network of the knowledge-distillation literature's CIFAR zoo (CRD, DKD, mdistiller): a body from the image to a
/// feature map, global average pooling to the embedding (optionally dropped out), then a linear head. Pooling globally,
/// where the references pool a fixed 8x8 or 4x4 window, is the same on 32x32 images and adapts to any other size.
/// Convolutions start as the references initialise them (He normal, fan-out, for ReLU).
/// </summary>
public sealed class ZooNetwork : Classifier
{
    private readonly Sequential body;
    private readonly Linear head;
    /// <summary>stage1, stage2, ... and the body's layers that end them.</summary>
    private readonly IReadOnlyList<(string Stage, string Layer)> stages;

    /// <param name="stagePrefix">The prefix of the body's layers that are its stages, as the references name them (ResNet's layer1..3): stage1, stage2, ... in order.</param>
    public ZooNetwork(string name, IEnumerable<(string, Module<Tensor, Tensor>)> features, long embedding, int classes, double dropout, string stagePrefix) : base(name)
    {
        var layers = features.ToList();
        stages = layers.Select(l => l.Item1).Where(n => n.StartsWith(stagePrefix, StringComparison.Ordinal))
            .Select((n, i) => ($"stage{i + 1}", n)).ToList();
        layers.Add(("pool", AdaptiveAvgPool2d(1)));
        layers.Add(("flatten", Flatten()));
        if (dropout > 0) layers.Add(("dropout", Dropout(dropout)));
        body = Sequential(layers);
        head = Linear(embedding, classes);
        RegisterComponents();
        using var _ = no_grad();
        foreach (var conv in modules().OfType<Conv2d>())
            init.kaiming_normal_(conv.weight!, mode: init.FanInOut.FanOut, nonlinearity: init.NonlinearityType.ReLU);
    }

    public override (Tensor Logits, Tensor Embedding) Features(Tensor images)
    {
        var embedding = body.forward(images);
        return (head.forward(embedding), embedding);
    }

    public override IEnumerable<(string Key, Module Layer)> Layers() => [("body", body), ("head", head)];

    public override IReadOnlyList<(string Stage, string Layer)> StageLayers => stages.Select(s => (s.Stage, $"body.{s.Layer}")).ToList();

    public override (Tensor Logits, Tensor Embedding, IReadOnlyList<Tensor> Maps) FeatureMaps(Tensor images, IReadOnlyList<string> wanted)
    {
        var layers = wanted.Select(stage => stages.FirstOrDefault(s => s.Stage == stage).Layer
            ?? throw new ArgumentException($"{GetName()} has no {stage}; its stages are {string.Join(", ", stages.Select(s => s.Stage))}", nameof(wanted))).ToList();
        var maps = new Tensor[layers.Count];
        var x = images;
        foreach (var (name, layer) in body.named_children())
        {
            x = ((Module<Tensor, Tensor>)layer).forward(x);
            for (int i = 0; i < layers.Count; i++)
                if (layers[i] == name) maps[i] = x;
        }
        return (head.forward(x), x, maps);
    }
}

/// <summary>The layers the zoo's families are written in, named as the references name them.</summary>
static class ZooLayers
{
    /// <summary>A convolution padded to keep the size at stride 1 (padding k / 2), without bias unless asked: the zoo's convolutions feed BatchNorm.</summary>
    public static Conv2d Conv(long input, long output, long kernel, long stride = 1, long groups = 1, bool bias = false) =>
        Conv2d(input, output, kernel, stride: stride, padding: kernel / 2, groups: groups, bias: bias);

    public static BatchNorm2d Norm(long channels) => BatchNorm2d(channels);

    public static Sequential Path(params (string, Module<Tensor, Tensor>)[] layers) => Sequential(layers);

    /// <summary>
    /// The CIFAR ResNets' and WRNs' body: three stages (<paramref name="prefix"/>1..3) of <paramref name="blocks"/> blocks
    /// each, at strides 1, 2, 2 (the first block of a stage strides), widening to <paramref name="widths"/>[0..2];
    /// returns the channels at the end.
    /// </summary>
    public static long Stages(List<(string, Module<Tensor, Tensor>)> layers, string prefix, long input, IReadOnlyList<long> widths, int blocks,
        Func<long, long, long, Module<Tensor, Tensor>> block)
    {
        for (int stage = 0; stage < 3; stage++)
        {
            var stageBlocks = new List<(string, Module<Tensor, Tensor>)>();
            for (int b = 0; b < blocks; b++)
            {
                stageBlocks.Add((b.ToString(), block(input, widths[stage], stage > 0 && b == 0 ? 2 : 1)));
                input = widths[stage];
            }
            layers.Add(($"{prefix}{stage + 1}", Sequential(stageBlocks)));
        }
        return input;
    }

    /// <summary>The identity branch of a residual block.</summary>
    public static Sequential IdentityPath() => Sequential();
}
