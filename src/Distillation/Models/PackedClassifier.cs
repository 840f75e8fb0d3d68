using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace Orchestrator.Distillation.Models;

/// <summary>
/// K models of one architecture run as one (horizontal fusion, as in HFTA, Wang et al. 2021). Every weight of the single
/// model is stacked along a leading trial axis [K, ...]: linear layers run as one batched matmul, convolutions as one
/// grouped convolution (groups = K) over K*C channels, BatchNorm over K*C channels (so each trial keeps its own running
/// statistics), and dropout draws each trial's mask from that trial's own generator at that trial's rate. Summing the
/// trials' losses gives each trial's weights exactly the gradient they would get alone.
/// Keys are the single model's state-dict keys, so trial k's weights move to and from an ordinary <see cref="Classifier"/>
/// (checkpoints, teachers, evaluation) with <see cref="CopyTo"/> and <see cref="CopyFrom"/>.
/// </summary>
public sealed class PackedClassifier : IStudentPack
{
    /// <summary>
    /// Where a trial's activations are: the same for every trial ([B, ...], before the first weighted layer), trial k's
    /// channels at k*C..(k+1)*C-1 ([B, K*C, H, W]), or one row block per trial ([K, B, F]).
    /// </summary>
    enum Layout { Shared, Channels, Rows }

    readonly record struct Activation(Tensor Value, Layout Layout);

    readonly List<Func<Activation, bool, Activation>> layers = [];
    readonly Func<Activation, bool, Activation> head;
    readonly HashSet<string> parameterKeys;
    Dictionary<string, Tensor> stacked;
    /// <summary>Each dropout layer's rate per trial, by key.</summary>
    Dictionary<string, double[]> rates = [];
    /// <summary>Each trial's generator for dropout masks (null: the global one), set by the trainer every epoch.</summary>
    public IReadOnlyList<Generator?> Generators { get; set; }

    /// <summary>The layers whose outputs are the feature maps asked for (<see cref="Classifier.StageLayers"/>), in order, and their outputs in the last forward.</summary>
    readonly IReadOnlyList<string> taps;
    /// <summary>Each tapped layer's output in the last forward, in the pack's channel layout [B, K*C, H, W].</summary>
    readonly Dictionary<string, Tensor> tapped = [];
    /// <summary>The trials' hint regressors (<see cref="Classifier.Hint"/>) fused, one per tapped stage; none without them.</summary>
    readonly IReadOnlyList<Func<Activation, bool, Activation>> hints = [];

    /// <summary>Fuses <paramref name="members"/>, which must be one architecture (their dropout rates may differ), on their device.</summary>
    /// <param name="stages">The stages whose feature maps each forward keeps (<see cref="Maps"/>).</param>
    public PackedClassifier(IReadOnlyList<Classifier> members, IReadOnlyList<string>? stages = null)
    {
        if (members.Count == 0) throw new ArgumentException("a pack needs at least one model", nameof(members));
        // The member with dropout layers describes the plan; a member without them (rate 0) draws no mask there.
        var template = members.MaxBy(m => m.named_modules().Count())!;
        var states = members.Select(m => m.state_dict()).ToList();
        foreach (var state in states.Skip(1))
            if (!state.Keys.SequenceEqual(states[0].Keys) || state.Any(p => !p.Value.shape.SequenceEqual(states[0][p.Key].shape)))
                throw new ArgumentException("the models of a pack must have one architecture", nameof(members));
        parameterKeys = template.named_parameters().Select(p => p.name).ToHashSet();
        using (no_grad())
            stacked = states[0].Keys.ToDictionary(key => key, key => Stack(states.Select(s => s[key]).ToList(), parameterKeys.Contains(key)));
        Count = members.Count;
        Generators = new Generator?[Count];

        var stageLayers = template.StageLayers;
        taps = (stages ?? []).Select(stage => stageLayers.FirstOrDefault(l => l.Stage == stage).Layer
            ?? throw new ArgumentException($"{template.GetName()} has no {stage}", nameof(stages))).ToList();
        var plan = template.Layers().ToList();
        foreach (var (key, layer) in plan.SkipLast(1))
            layers.Add(Fuse(key, layer, members));
        head = Fuse(plan[^1].Key, plan[^1].Layer, members);
        if (template.Hint is { } hint)
            hints = hint.Stages.Select(stage => hint.Of(stage)).Select(r => Fuse(r.Key, r.Layer, members)).ToList();
    }

    /// <summary>How many trials the pack holds.</summary>
    public int Count { get; private set; }

    public bool Fused => true;

    /// <summary>The stacked weights that train, [K, ...] each, by the single model's key.</summary>
    public IEnumerable<(string Key, Tensor Weight)> Parameters() => stacked.Where(p => parameterKeys.Contains(p.Key)).Select(p => (p.Key, p.Value));

    /// <summary>Each asked stage's feature maps [K, B, C, H, W] from the last <see cref="Features"/>.</summary>
    public IReadOnlyList<Tensor> Maps => taps.Select(key => TrialMajor(tapped[key])).ToList();

    public IReadOnlyList<Tensor> Hints { get; private set; } = [];

    /// <summary>Logits [K, B, classes] and embeddings [K, B, width] of every trial for one batch of images [B, C, H, W].</summary>
    public (Tensor Logits, Tensor Embedding) Features(Tensor images, bool training)
    {
        tapped.Clear();
        var activation = new Activation(images, Layout.Shared);
        foreach (var layer in layers) activation = layer(activation, training);
        var embedding = ToRows(activation);
        Hints = hints.Select((regress, i) => TrialMajor(regress(new Activation(tapped[taps[i]], Layout.Channels), training).Value)).ToList();
        return (head(embedding, training).Value, embedding.Value);
    }

    /// <summary>Trial <paramref name="trial"/>'s weights and buffers into an ordinary model of the same architecture.</summary>
    public void CopyTo(int trial, Classifier target)
    {
        using var _ = no_grad();
        foreach (var (key, value) in target.state_dict()) value.copy_(stacked[key][trial]);
    }

    /// <summary>An ordinary model's weights and buffers into trial <paramref name="trial"/> (a trial resumed from its own checkpoint).</summary>
    public void CopyFrom(int trial, Classifier source)
    {
        using var _ = no_grad();
        foreach (var (key, value) in source.state_dict()) stacked[key][trial].copy_(value);
    }

    /// <summary>Keeps only these trials, in this order (the others ended); the weights are new tensors, so an optimizer over the old ones is rebuilt.</summary>
    public void Keep(IReadOnlyList<int> trials)
    {
        using var index = tensor(trials.Select(t => (long)t).ToArray(), device: stacked.Values.First().device);
        Dictionary<string, Tensor> kept;
        using (no_grad())
            kept = stacked.ToDictionary(p => p.Key, p => Trainable(p.Value.index_select(0, index), parameterKeys.Contains(p.Key)));
        Dispose();
        stacked = kept;
        rates = rates.ToDictionary(r => r.Key, r => trials.Select(t => r.Value[t]).ToArray());
        Generators = trials.Select(t => Generators[t]).ToList();
        Count = trials.Count;
    }

    public void Dispose()
    {
        foreach (var tensor in stacked.Values) tensor.Dispose();
    }

    static Tensor Stack(IReadOnlyList<Tensor> weights, bool trains) => Trainable(stack(weights.Select(w => w.detach()).ToList()), trains);

    static Tensor Trainable(Tensor weight, bool trains) => trains ? weight.requires_grad_(true) : weight;

    Func<Activation, bool, Activation> Fuse(string key, nn.Module layer, IReadOnlyList<Classifier> members) => layer switch
    {
        Sequential sequence => FuseInOrder(sequence.named_children().Select(c => Tapped($"{key}.{c.name}", Fuse($"{key}.{c.name}", c.module, members))).ToList()),
        Branches branches => FuseBranches(branches.Merge, branches.Paths.Select(p => Fuse($"{key}.{p.Name}", p.Path, members)).ToList()),
        TorchSharp.Modules.Linear => (x, _) => Linear(x, key),
        Conv2d conv => (x, _) => Convolution(x, key, conv.stride, conv.padding ?? [0, 0], conv.dilation, conv.groups),
        BatchNorm2d norm => (x, training) => BatchNorm(x, key, training, norm.momentum ?? throw new NotSupportedException("BatchNorm without momentum"), norm.eps),
        ReLU => (x, _) => x with { Value = relu(x.Value) },
        MaxPool2d pool => (x, _) => x with { Value = max_pool2d(x.Value, pool.kernel_size, pool.stride ?? pool.kernel_size, pool.padding, pool.dilation, pool.ceil_mode) },
        AvgPool2d pool => (x, _) => x with { Value = avg_pool2d(x.Value, pool.kernel_size, pool.stride ?? pool.kernel_size, pool.padding, pool.ceil_mode, pool.count_include_pad) },
        AdaptiveAvgPool2d pool => (x, _) => x with { Value = adaptive_avg_pool2d(x.Value, pool.output_size) },
        ChannelSlice slice => (x, _) => PerTrialChannels(x, key, c => c.narrow(2, slice.Start, slice.Length)),
        ChannelShuffle shuffle => (x, _) => PerTrialChannels(x, key, c => c.unflatten(2, [shuffle.Groups, -1]).transpose(2, 3).flatten(2, 3)),
        TorchSharp.Modules.Flatten => (x, _) => Flatten(x),
        Dropout => DropoutOf(key, members),
        _ => throw new NotSupportedException($"a pack cannot fuse {layer.GetType().Name} ({key})"),
    };

    /// <summary>The layer, keeping its output as trial-major feature maps [K, B, C, H, W] when it is a stage asked for.</summary>
    Func<Activation, bool, Activation> Tapped(string key, Func<Activation, bool, Activation> layer) => !taps.Contains(key) ? layer : (x, training) =>
    {
        var output = layer(x, training);
        if (output.Layout != Layout.Channels) throw new NotSupportedException($"stage {key} is not a feature map of the pack's trials");
        tapped[key] = output.Value;
        return output;
    };

    /// <summary>[B, K*C, H, W] in the pack's channel layout to trial-major [K, B, C, H, W].</summary>
    Tensor TrialMajor(Tensor channels) => channels.unflatten(1, [Count, -1]).transpose(0, 1);

    static Func<Activation, bool, Activation> FuseInOrder(IReadOnlyList<Func<Activation, bool, Activation>> steps) =>
        (x, training) => steps.Aggregate(x, (activation, step) => step(activation, training));

    /// <summary>Each branch runs on the pack's activation; sums keep the layout, concatenations join each trial's own channels.</summary>
    Func<Activation, bool, Activation> FuseBranches(Merge merge, IReadOnlyList<Func<Activation, bool, Activation>> paths) => (x, training) =>
    {
        if (x.Layout != Layout.Channels) throw new NotSupportedException("branches are fused between convolutions only");
        var outputs = paths.Select(path => path(x, training)).ToList();
        if (merge == Merge.Add) return outputs.Skip(1).Aggregate(outputs[0], (sum, next) => sum with { Value = sum.Value + next.Value });
        var perTrial = outputs.Select(o => o.Value.unflatten(1, [Count, -1])).ToList();
        return new Activation(cat(perTrial, 2).flatten(1, 2), Layout.Channels);
    };

    /// <summary>Applies <paramref name="perTrial"/> to the activation seen as [B, K, C, H, W], so an operation on channels stays within each trial's own.</summary>
    Activation PerTrialChannels(Activation x, string key, Func<Tensor, Tensor> perTrial)
    {
        if (x.Layout == Layout.Rows) throw new NotSupportedException($"a channel operation after a flattened layer ({key})");
        long trials = x.Layout == Layout.Shared ? 1 : Count;
        return x with { Value = perTrial(x.Value.unflatten(1, [trials, -1])).flatten(1, 2) };
    }

    Activation Linear(Activation x, string key)
    {
        var weight = stacked[key + ".weight"];
        var bias = stacked[key + ".bias"];
        long outputs = weight.shape[1];
        if (x.Layout == Layout.Shared)
        {
            // One matmul of the shared input against every trial's weights side by side: [B, in] x [in, K*out].
            var all = addmm(bias.reshape(-1), x.Value, weight.reshape(Count * outputs, -1).t(), beta: 1, alpha: 1);
            return new Activation(all.view(-1, Count, outputs).transpose(0, 1), Layout.Rows);
        }
        return new Activation(ToRows(x).Value.bmm(weight.transpose(1, 2)) + bias.unsqueeze(1), Layout.Rows);
    }

    Activation Convolution(Activation x, string key, long[] stride, long[] padding, long[] dilation, long groups)
    {
        var weight = stacked[key + ".weight"];
        var bias = stacked.GetValueOrDefault(key + ".bias")?.reshape(-1);
        if (x.Layout == Layout.Rows) throw new NotSupportedException($"a convolution after a flattened layer ({key})");
        var kernels = weight.reshape(Count * weight.shape[1], weight.shape[2], weight.shape[3], weight.shape[4]);
        // After the first convolution trial k's channels meet only its own kernels: K times the model's groups. The shared
        // input meets every trial's kernels in one ordinary convolution, unless the model's convolution is itself grouped.
        if (x.Layout == Layout.Shared && groups == 1)
            return new Activation(conv2d(x.Value, kernels, bias, stride, padding, dilation), Layout.Channels);
        var input = x.Layout == Layout.Shared ? x.Value.repeat(1, Count, 1, 1) : x.Value;
        return new Activation(conv2d(input, kernels, bias, stride, padding, dilation, Count * groups), Layout.Channels);
    }

    Activation BatchNorm(Activation x, string key, bool training, double momentum, double eps)
    {
        if (x.Layout != Layout.Channels) throw new NotSupportedException($"BatchNorm before the first convolution ({key})");
        // Views of the stacked [K, C] statistics, which batch_norm updates in place: trial k's at k*C..(k+1)*C-1.
        var output = batch_norm(x.Value, stacked[key + ".running_mean"].view(-1), stacked[key + ".running_var"].view(-1),
            stacked[key + ".weight"].reshape(-1), stacked[key + ".bias"].reshape(-1), training, momentum, eps);
        if (training)
            using (no_grad()) stacked[key + ".num_batches_tracked"].add_(1);
        return x with { Value = output };
    }

    Activation Flatten(Activation x) => x.Layout switch
    {
        Layout.Shared => x with { Value = x.Value.flatten(1) },
        Layout.Channels => new Activation(x.Value.reshape(x.Value.shape[0], Count, -1).transpose(0, 1), Layout.Rows),
        _ => x,
    };

    Func<Activation, bool, Activation> DropoutOf(string key, IReadOnlyList<Classifier> members)
    {
        rates[key] = members.Select(m => m.named_modules().FirstOrDefault(l => l.name == key).module is Dropout d ? d.p : 0).ToArray();
        return (x, training) =>
        {
            var rate = rates[key];
            if (!training || rate.All(r => r == 0)) return x;
            var rows = ToRows(x).Value;
            // As torch's dropout does it on CPU: a Bernoulli(1 - p) mask scaled by 1 / (1 - p), from the trial's own
            // generator, drawn into that trial's contiguous slice of one mask (a trial at rate 0 draws nothing).
            var masks = empty(rows.shape, dtype: rows.dtype, device: rows.device);
            for (int k = 0; k < Count; k++)
            {
                using var mask = masks[k];
                if (rate[k] == 0) mask.fill_(1);
                else mask.bernoulli_(1 - rate[k], Generators[k]).div_(1 - rate[k]);
            }
            return new Activation(rows * masks, Layout.Rows);
        };
    }

    Activation ToRows(Activation x) => x.Layout switch
    {
        Layout.Rows => x,
        Layout.Shared => new Activation(x.Value.flatten(1).unsqueeze(0).expand(Count, -1, -1), Layout.Rows),
        _ => Flatten(x),
    };
}
