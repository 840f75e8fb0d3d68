using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Models;

/// <summary>How the outputs of parallel branches become one: summed (a residual connection) or stacked along channels.</summary>
public enum Merge { Add, Concat }

/// <summary>
/// Parallel branches over one input, merged: a ResNet block's main path and shortcut, or a ShuffleNet unit's two halves.
/// A branch with no layers is the identity. Each branch is a named <see cref="Sequential"/>, so its weights have
/// state-dict keys such as <c>main.conv1.weight</c>; <see cref="PackedClassifier"/> fuses it branch by branch.
/// </summary>
public sealed class Branches : nn.Module<Tensor, Tensor>
{
    public Merge Merge { get; }
    public IReadOnlyList<(string Name, Sequential Path)> Paths { get; }

    public Branches(Merge merge, params (string Name, Sequential Path)[] paths) : base(nameof(Branches))
    {
        if (paths.Length < 2) throw new ArgumentException("branches need at least two paths", nameof(paths));
        Merge = merge;
        Paths = paths;
        foreach (var (name, path) in paths) register_module(name, path);
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var outputs = Paths.Select(p => p.Path.children().Any() ? p.Path.forward(input) : input.alias()).ToList();
        var merged = Merge == Merge.Add ? outputs.Skip(1).Aggregate(outputs[0], (sum, next) => sum + next) : cat(outputs, 1);
        return merged.MoveToOuterDisposeScope();
    }
}

/// <summary>Channels <see cref="Start"/>..<see cref="Start"/> + <see cref="Length"/> - 1 of an image batch (ShuffleNetV2's channel split).</summary>
public sealed class ChannelSlice(long start, long length) : nn.Module<Tensor, Tensor>(nameof(ChannelSlice))
{
    public long Start => start;
    public long Length => length;

    public override Tensor forward(Tensor input) => input.narrow(1, start, length);
}

/// <summary>
/// ShuffleNet's channel shuffle: the channels, seen as <see cref="Groups"/> groups of C / groups, are interleaved, so
/// the next grouped convolution mixes information from every group.
/// </summary>
public sealed class ChannelShuffle(long groups) : nn.Module<Tensor, Tensor>(nameof(ChannelShuffle))
{
    public long Groups => groups;

    public override Tensor forward(Tensor input)
    {
        long n = input.shape[0], c = input.shape[1], h = input.shape[2], w = input.shape[3];
        return input.view(n, groups, c / groups, h, w).transpose(1, 2).reshape(n, c, h, w);
    }
}
