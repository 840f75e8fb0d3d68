using Orchestrator.Distillation.Models;
using Orchestrator.Distillation.Training;
using Shouldly;
using OptimizerHelper = TorchSharp.Modules.OptimizerHelper;
using static Orchestrator.Distillation.Tests.DatasetShapes;
using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace Orchestrator.Distillation.Tests;

/// <summary>A packed optimizer moves each trial's weights as TorchSharp's optimizer moves that model alone, and hands its state over in that format.</summary>
public class PackedOptimizerTests
{
    /// <summary>Three trials of one optimizer kind, each with its own learning rate, weight decay and momentum.</summary>
    static List<OptimizerOptions> Settings(string kind, bool nesterov) =>
    [
        new(kind, 0.05, Momentum: 0.9, Nesterov: nesterov, WeightDecay: 0),
        new(kind, 0.01, Momentum: 0.5, Nesterov: nesterov, WeightDecay: 1e-2),
        new(kind, 0.002, Momentum: nesterov ? 0.7 : 0, Nesterov: nesterov, WeightDecay: 5e-4),
    ];

    static List<Classifier> Models(int count) => [.. Enumerable.Range(0, count).Select(k =>
    {
        manual_seed(10 + k);
        return ModelRegistry.Create(new ModelSpec("mlp-32"), FashionMnist);
    })];

    static (Tensor Images, Tensor Labels) Batch(int step) =>
        (randn(new long[] { 16, 1, 28, 28 }, generator: new Generator((ulong)step + 1)), randint(0, 10, new long[] { 16 }, generator: new Generator((ulong)step + 100)));

    static void PackSteps(PackedClassifier pack, PackedOptimizer optimizer, int from, int to)
    {
        for (int step = from; step < to; step++)
        {
            var (images, labels) = Batch(step);
            var logits = pack.Features(images, training: true).Logits;
            optimizer.ZeroGrad();
            cross_entropy(logits.reshape(-1, 10), labels.repeat(pack.Count), reduction: nn.Reduction.Sum).div(16).backward();
            optimizer.Step();
        }
    }

    static void AloneSteps(Classifier model, OptimizerHelper optimizer, int from, int to)
    {
        for (int step = from; step < to; step++)
        {
            var (images, labels) = Batch(step);
            optimizer.zero_grad();
            cross_entropy(model.forward(images), labels).backward();
            optimizer.step();
        }
    }

    static void ShouldMatch(PackedClassifier pack, int trial, Classifier alone, string when)
    {
        using var copy = ModelRegistry.Create(new ModelSpec("mlp-32"), FashionMnist);
        pack.CopyTo(trial, copy);
        var weights = copy.state_dict();
        foreach (var (key, weight) in alone.state_dict())
            weights[key].allclose(weight, rtol: 1e-4, atol: 1e-6).ShouldBeTrue($"{when}: trial {trial}'s {key}");
    }

    [Theory]
    [InlineData("sgd", false)]
    [InlineData("sgd", true)]
    [InlineData("adam", false)]
    [InlineData("adamw", false)]
    public void Each_trial_moves_as_it_would_alone_and_continues_alone_from_the_handed_over_state(string kind, bool nesterov)
    {
        var settings = Settings(kind, nesterov);
        var alone = Models(3);
        using var pack = new PackedClassifier(Models(3));
        using var packed = new PackedOptimizer(pack, settings);
        var optimizers = alone.Select((m, k) => Optimizers.Create(settings[k], m.parameters())).ToList();

        PackSteps(pack, packed, 0, 4);
        for (int k = 0; k < 3; k++) AloneSteps(alone[k], optimizers[k], 0, 4);
        for (int k = 0; k < 3; k++) ShouldMatch(pack, k, alone[k], "after 4 steps");

        // Trial 1's state, handed to an ordinary optimizer (what a checkpoint stores), moves its model on as the pack moves it.
        using var handedModel = ModelRegistry.Create(new ModelSpec("mlp-32"), FashionMnist);
        pack.CopyTo(1, handedModel);
        using var handed = Optimizers.Create(settings[1], handedModel.parameters());
        packed.CopyTo(1, handedModel, handed);
        PackSteps(pack, packed, 4, 6);
        AloneSteps(handedModel, handed, 4, 6);
        ShouldMatch(pack, 1, handedModel, "trial 1 alone after the hand-over");

        // And back: a pack resumed from that ordinary state (a checkpoint) moves on as the model alone does.
        using var resumed = new PackedClassifier([handedModel]);
        using var resumedOptimizer = new PackedOptimizer(resumed, [settings[1]]);
        resumedOptimizer.CopyFrom(0, handedModel, handed);
        PackSteps(resumed, resumedOptimizer, 6, 8);
        AloneSteps(handedModel, handed, 6, 8);
        ShouldMatch(resumed, 0, handedModel, "a pack resumed from trial 1's ordinary state");
    }
}
