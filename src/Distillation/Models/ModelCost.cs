using System.Diagnostics;
using Orchestrator.Distillation.Data;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Models;

/// <summary>One inference latency: the median of <see cref="Runs"/> timed forwards of a batch, after warm-up.</summary>
public sealed record Latency(double MedianMilliseconds, int Runs);

/// <summary>
/// What a trained model costs to keep and to run, as the node that trained it measures it: its parameters, its
/// multiply-accumulates per sample (the convolutions' and linear layers', counted from its layer plan: null for a
/// TorchScript model, whose layers are not known), the bytes of its weights and buffers in float32 and float16, and its
/// inference latency (evaluation mode, no gradients) at batch 1 and 256 on <see cref="Device"/>. A hint regressor
/// that trained with it is not part of it.
/// </summary>
public sealed record ModelCost(long Parameters, long? MultiplyAccumulates, long Float32Bytes, long Float16Bytes, Latency Batch1, Latency Batch256, string Device)
{
    /// <summary>The share of the trial's training time its latency may take.</summary>
    public const double LatencyBudget = 0.05;

    /// <summary>Runs timed per batch size when the budget allows them: the median of these is the latency.</summary>
    public const int LatencyRuns = 20;

    /// <summary>Measures <paramref name="model"/> on <paramref name="device"/>, its latency within 5 % of <paramref name="trainingSeconds"/>.</summary>
    public static ModelCost Measure(Classifier model, DatasetInfo data, Device device, double trainingSeconds)
    {
        bool training = model.training;
        model.eval();
        try
        {
            var weights = model.state_dict().Where(p => !HintRegressor.Owns(p.Key) && p.Value.is_floating_point()).Sum(p => p.Value.numel());
            double budget = LatencyBudget * trainingSeconds / 2; // each batch size gets half
            return new ModelCost(model.ParameterCount, CountMultiplyAccumulates(model, data), 4 * weights, 2 * weights,
                TimeForward(model, data, device, 1, budget), TimeForward(model, data, device, 256, budget), device.ToString());
        }
        finally { model.train(training); }
    }

    /// <summary>
    /// Multiply-accumulates of one sample's forward: for each convolution, output positions x output channels x input
    /// channels per group x kernel area; for each linear layer, inputs x outputs. Normalisations, activations, pooling
    /// and residual additions are not counted (the usual convention, as thop and the KD papers' tables count them).
    /// </summary>
    public static long? CountMultiplyAccumulates(Classifier model, DatasetInfo data)
    {
        if (model is TorchScriptStudent or TorchScriptTeacher) return null;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var device = model.parameters().FirstOrDefault()?.device ?? CPU;
        var activation = zeros(1, data.Channels, data.Height, data.Width, device: device);
        long total = 0;
        foreach (var (_, layer) in model.Layers())
        {
            (activation, long macs) = Counted(layer, activation);
            total += macs;
        }
        return total;
    }

    static (Tensor Output, long Macs) Counted(nn.Module layer, Tensor input)
    {
        switch (layer)
        {
            case Sequential sequence:
                long sum = 0;
                foreach (var (_, child) in sequence.named_children())
                {
                    (input, long macs) = Counted(child, input);
                    sum += macs;
                }
                return (input, sum);
            case Branches branches:
                var paths = branches.Paths.Select(p => p.Path.children().Any() ? Counted(p.Path, input) : (input, 0L)).ToList();
                var outputs = paths.Select(p => p.Item1).ToList();
                var merged = branches.Merge == Merge.Add ? outputs.Skip(1).Aggregate(outputs[0], (a, b) => a + b) : cat(outputs, 1);
                return (merged, paths.Sum(p => p.Item2));
            case Conv2d conv:
                var convolved = conv.forward(input);
                var kernel = conv.weight!.shape; // [out, in / groups, kh, kw]
                return (convolved, convolved[0].numel() * kernel[1] * kernel[2] * kernel[3]);
            case TorchSharp.Modules.Linear linear:
                return (linear.forward(input), linear.in_features * linear.out_features);
            case nn.Module<Tensor, Tensor> other:
                return (other.forward(input), 0);
            default:
                throw new NotSupportedException($"cannot count the multiply-accumulates of {layer.GetType().Name}");
        }
    }

    /// <summary>
    /// The median of timed forwards of a batch of blank images, after two warm-up runs: as many as fit in
    /// <paramref name="budgetSeconds"/> (judged by the warm-up), up to <see cref="LatencyRuns"/>, at least one.
    /// </summary>
    static Latency TimeForward(Classifier model, DatasetInfo data, Device device, int batch, double budgetSeconds)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var images = zeros(batch, data.Channels, data.Height, data.Width, device: device);
        double Once()
        {
            using var run = NewDisposeScope();
            var clock = Stopwatch.StartNew();
            model.forward(images)[0, 0].item<float>(); // reading one value waits for the device's queued work
            return clock.Elapsed.TotalMilliseconds;
        }
        Once();
        double warm = Once();
        int runs = (int)Math.Clamp(budgetSeconds * 1000 / Math.Max(warm, 1e-3) - 2, 1, LatencyRuns);
        var times = Enumerable.Range(0, runs).Select(_ => Once()).Order().ToList();
        double median = runs % 2 == 1 ? times[runs / 2] : (times[runs / 2 - 1] + times[runs / 2]) / 2;
        return new Latency(median, runs);
    }
}
