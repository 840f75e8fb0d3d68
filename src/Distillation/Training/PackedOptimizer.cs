using Orchestrator.Distillation.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Training;

/// <summary>
/// SGD (momentum, Nesterov), Adam or AdamW over the stacked weights of a <see cref="PackedClassifier"/> (or the one
/// model of an <see cref="UnfusedStudent"/>, a trial axis of 1 that the settings broadcast over), each trial with
/// its own learning rate, weight decay and momentum (broadcast [K, 1, ...] tensors) and its own step count: trial k's
/// slice moves exactly as TorchSharp's optimizer would move that model alone. Its state goes to and from an ordinary
/// TorchSharp optimizer (<see cref="CopyTo"/>, <see cref="CopyFrom"/>), so checkpoints keep the single-model format.
/// </summary>
public sealed class PackedOptimizer : IDisposable
{
    const double Beta1 = 0.9, Beta2 = 0.999, Epsilon = 1e-8;

    readonly string kind;
    readonly bool nesterov;
    /// <summary>Whether each weight and state has a leading trial axis (<see cref="IStudentPack.Fused"/>).</summary>
    readonly bool stacked;
    readonly Device device;
    List<OptimizerOptions> options;
    double[] rates;
    long[] steps;
    List<(string Key, Tensor Weight)> parameters = [];
    /// <summary>Per parameter key: SGD's momentum buffer, or Adam's first and second moments (zeros before the first step).</summary>
    Dictionary<string, Tensor> first = [], second = [];

    /// <param name="trials">Each trial's optimizer settings, one kind (and for SGD one Nesterov setting) for all.</param>
    public PackedOptimizer(IStudentPack pack, IReadOnlyList<OptimizerOptions> trials)
    {
        if (trials.Count != pack.Count) throw new ArgumentException($"{trials.Count} optimizer settings for a pack of {pack.Count}", nameof(trials));
        kind = trials[0].Name;
        nesterov = trials[0].Nesterov;
        if (trials.Any(t => t.Name != kind || t.Nesterov != nesterov))
            throw new ArgumentException("the trials of a pack must use one optimizer", nameof(trials));
        if (!OptimizerOptions.Names.Contains(kind)) throw new ArgumentException($"unknown optimizer '{kind}'", nameof(trials));
        options = trials.ToList();
        rates = trials.Select(t => t.LearningRate).ToArray();
        steps = new long[trials.Count];
        stacked = pack.Fused;
        device = pack.Parameters().First().Weight.device;
        Track(pack);
    }

    /// <summary>Sets each trial's learning rate (the schedule's value for the epoch).</summary>
    public void SetLearningRates(IReadOnlyList<double> perTrial) => rates = perTrial.ToArray();

    public void ZeroGrad()
    {
        foreach (var (_, weight) in parameters) weight.grad?.zero_();
    }

    public void Step()
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        for (int k = 0; k < steps.Length; k++) steps[k]++;
        var perTrial = new StepSettings(
            PerTrial(rates),
            options.All(o => o.WeightDecay == 0) ? null : PerTrial(options.Select(o => o.WeightDecay)),
            PerTrial(options.Select(o => o.Momentum)),
            PerTrial(steps.Select(s => Math.Sqrt(1 - Math.Pow(Beta2, s)))),
            PerTrial(steps.Select((s, k) => rates[k] / (1 - Math.Pow(Beta1, s)))));
        foreach (var (key, weight) in parameters)
        {
            var gradient = weight.grad;
            if (gradient is null) continue;
            // [K] settings viewed as [K, 1, ...] to broadcast over this weight's trial slices; an unstacked weight is one
            // trial's, whose [1] settings view as [1, 1, ...] (or as a scalar, for a scalar weight).
            var shape = Enumerable.Repeat(1L, (int)weight.dim()).ToArray();
            if (stacked) shape[0] = steps.Length;
            if (kind == "sgd") Sgd(key, weight, gradient, perTrial, shape);
            else Adam(key, weight, gradient, perTrial, shape);
        }
    }

    /// <summary>This step's per-trial values, [K] each; Decay is null when no trial decays.</summary>
    readonly record struct StepSettings(Tensor Rate, Tensor? Decay, Tensor Momentum, Tensor Correction2, Tensor StepSize);

    void Sgd(string key, Tensor weight, Tensor gradient, StepSettings perTrial, long[] shape)
    {
        var direction = perTrial.Decay is { } decay ? gradient.addcmul(weight, decay.view(shape), value: 1) : gradient;
        // A zero buffer times the momentum plus the gradient is the gradient: TorchSharp's first step, for every trial.
        var momentum = perTrial.Momentum.view(shape);
        var buffer = first[key].mul_(momentum).add_(direction);
        direction = nesterov ? direction.addcmul(buffer, momentum, value: 1) : buffer;
        weight.addcmul_(direction, perTrial.Rate.view(shape), value: -1);
    }

    void Adam(string key, Tensor weight, Tensor gradient, StepSettings perTrial, long[] shape)
    {
        // AdamW decays the weights themselves; Adam adds the decay to the gradient (L2), as TorchSharp's do.
        if (perTrial.Decay is { } decay)
        {
            if (kind == "adamw") weight.mul_(1 - perTrial.Rate.view(shape) * decay.view(shape));
            else gradient = gradient.addcmul(weight, decay.view(shape), value: 1);
        }
        var mean = first[key].mul_(Beta1).add_(gradient, alpha: 1 - Beta1);
        var variance = second[key].mul_(Beta2).addcmul_(gradient, gradient, value: 1 - Beta2);
        // TorchSharp's p -= stepSize * m / (sqrt(v) / correction2 + eps), with each trial's step size folded into the
        // denominator so that one addcdiv moves every trial.
        var denominator = variance.sqrt().div_(perTrial.Correction2.view(shape)).add_(Epsilon).div_(perTrial.StepSize.view(shape));
        weight.addcdiv_(mean, denominator, value: -1);
    }

    /// <summary>Trial <paramref name="trial"/>'s state into an optimizer made by <see cref="Optimizers.Create"/> over <paramref name="model"/>'s parameters.</summary>
    public void CopyTo(int trial, Classifier model, OptimizerHelper target)
    {
        using var _ = no_grad();
        foreach (var (key, state) in StatesOf(model, target))
            switch (state)
            {
                case TorchSharp.Modules.Adam.State adam:
                    (adam.step, adam.exp_avg, adam.exp_avg_sq) = (steps[trial], Replace(adam.exp_avg, first[key], trial), Replace(adam.exp_avg_sq, second[key], trial));
                    break;
                case AdamW.State adamW:
                    (adamW.step, adamW.exp_avg, adamW.exp_avg_sq) = (steps[trial], Replace(adamW.exp_avg, first[key], trial), Replace(adamW.exp_avg_sq, second[key], trial));
                    break;
                case SGD.State sgd:
                    // A zero buffer moves SGD as no buffer does (momentum times zero, plus the gradient), so only "no momentum" has none.
                    sgd.momentum_buffer = options[trial].Momentum == 0 ? null : Replace(sgd.momentum_buffer, first[key], trial);
                    break;
            }
    }

    /// <summary>An ordinary optimizer's state (a trial's checkpoint) into trial <paramref name="trial"/>.</summary>
    public void CopyFrom(int trial, Classifier model, OptimizerHelper source)
    {
        using var _ = no_grad();
        foreach (var (key, state) in StatesOf(model, source))
            switch (state)
            {
                case TorchSharp.Modules.Adam.State adam: CopyFrom(trial, key, adam.step, adam.exp_avg, adam.exp_avg_sq); break;
                case AdamW.State adamW: CopyFrom(trial, key, adamW.step, adamW.exp_avg, adamW.exp_avg_sq); break;
                case SGD.State { momentum_buffer: { } buffer }: Slice(first[key], trial).copy_(buffer); break;
                case SGD.State: Slice(first[key], trial).zero_(); break;
            }
    }

    void CopyFrom(int trial, string key, long step, Tensor mean, Tensor variance)
    {
        steps[trial] = step;
        Slice(first[key], trial).copy_(mean);
        Slice(second[key], trial).copy_(variance);
    }

    /// <summary>Keeps only these trials, in this order, after <see cref="PackedClassifier.Keep"/> gave the pack new weight tensors.</summary>
    public void Keep(IStudentPack pack, IReadOnlyList<int> trials)
    {
        using var index = tensor(trials.Select(t => (long)t).ToArray(), device: device);
        var keptFirst = first.ToDictionary(p => p.Key, p => p.Value.index_select(0, index));
        var keptSecond = second.ToDictionary(p => p.Key, p => p.Value.index_select(0, index));
        Dispose();
        (first, second) = (keptFirst, keptSecond);
        options = trials.Select(t => options[t]).ToList();
        rates = trials.Select(t => rates[t]).ToArray();
        steps = trials.Select(t => steps[t]).ToArray();
        parameters = pack.Parameters().ToList();
    }

    public void Dispose()
    {
        foreach (var state in first.Values.Concat(second.Values)) state.Dispose();
    }

    void Track(IStudentPack pack)
    {
        parameters = pack.Parameters().ToList();
        foreach (var (key, weight) in parameters)
        {
            first[key] = zeros_like(weight, requires_grad: false);
            if (kind != "sgd") second[key] = zeros_like(weight, requires_grad: false);
        }
    }

    Tensor PerTrial(IEnumerable<double> values) => tensor(values.Select(v => (float)v).ToArray(), device: device);

    /// <summary>Trial <paramref name="trial"/>'s part of a state: its slice of a stacked one, or the whole of an unstacked one.</summary>
    Tensor Slice(Tensor state, int trial) => stacked ? state[trial] : state;

    /// <summary>A copy of the trial's part of a state that replaces an optimizer's state tensor (TorchSharp holds it until it disposes itself).</summary>
    Tensor Replace(Tensor? old, Tensor state, int trial)
    {
        old?.Dispose();
        using var scope = NewDisposeScope(); // the slice and its detached view are freed here; only the copy is kept
        return Slice(state, trial).detach().clone().MoveToOuterDisposeScope();
    }

    static IEnumerable<(string Key, OptimizerState State)> StatesOf(Classifier model, OptimizerHelper optimizer) =>
        model.named_parameters().Select(p => p.name).Zip(optimizer.state_dict().State);
}
