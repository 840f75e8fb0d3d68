using Orchestrator.Distillation.Data;
using Orchestrator.Distillation.Models;
using Shouldly;
using TorchSharp;
using static Orchestrator.Distillation.Tests.DatasetShapes;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Tests;

/// <summary>A pack of K models computes, for each trial, what that model computes alone: outputs, gradients, BatchNorm statistics, dropout masks.</summary>
public class PackedClassifierTests
{
    /// <summary>K models of one architecture, each initialised from its own seed so that a mix-up between trials shows.</summary>
    static List<Classifier> Members(string name, DatasetInfo data, params double[] dropout) =>
        dropout.Select((rate, k) =>
        {
            manual_seed(100 + k);
            return ModelRegistry.Create(new ModelSpec(name, rate), data);
        }).ToList();

    static Tensor Alone(Classifier model, Tensor images, bool training)
    {
        model.train(training);
        return model.forward(images);
    }

    static void ShouldBeClose(Tensor actual, Tensor expected, string what) =>
        actual.allclose(expected, rtol: 1e-4, atol: 1e-5).ShouldBeTrue($"{what}: largest difference {(actual - expected).abs().max().to_type(ScalarType.Float64).item<double>()}");

    [Theory]
    [InlineData("mlp-400", false)]
    [InlineData("mlp-64-32", false)]
    [InlineData("bncnn-student", true)]
    [InlineData("bncnn-teacher", true)]
    [InlineData("deepnn", false)]
    [InlineData("lightnn", true)]
    [InlineData("alexnet", true)]
    [InlineData("resnet8", true)]
    [InlineData("resnet8x4", false)]
    [InlineData("wrn-16-2", true)]
    [InlineData("vgg8", true)]
    [InlineData("mobilenetv2", true)]
    [InlineData("shufflenetv1", false)]
    [InlineData("shufflenetv2", true)]
    public void Each_trial_gets_the_outputs_gradients_and_statistics_of_its_model_alone(string name, bool colour)
    {
        var data = colour ? Cifar10 : FashionMnist;
        // In float64, so that a difference is a mix-up and not round-off: through the deep zoo models' BatchNorms on a
        // batch of 6, float32 round-off alone reaches 1e-2 in the first layer's gradient.
        var members = Members(name, data, 0, 0, 0).Select(m => m.to(ScalarType.Float64)).ToList();
        using var pack = new PackedClassifier(members);
        manual_seed(7);
        var images = randn(6, data.Channels, data.Height, data.Width, dtype: ScalarType.Float64);
        var labels = randint(0, 10, [6]);

        // A different loss per trial, summed: each trial's gradient must be that of its own loss alone.
        var (logits, embedding) = pack.Features(images, training: true);
        logits.shape.ShouldBe([3, 6, 10]);
        var total = Enumerable.Range(0, 3).Select(k => nn.functional.cross_entropy(logits[k], labels) * (k + 1)).Aggregate((a, b) => a + b);
        total.backward();

        for (int k = 0; k < 3; k++)
        {
            var model = members[k];
            model.train();
            var (alone, aloneEmbedding) = model.Features(images);
            (nn.functional.cross_entropy(alone, labels) * (k + 1)).backward();
            ShouldBeClose(logits[k].detach(), alone.detach(), $"trial {k} logits");
            ShouldBeClose(embedding[k].detach(), aloneEmbedding.detach(), $"trial {k} embedding");
            var packed = pack.Parameters().ToDictionary(p => p.Key, p => p.Weight);
            foreach (var (key, weight) in model.named_parameters())
                ShouldBeClose(packed[key].grad![k], weight.grad!, $"trial {k} gradient of {key}");
            // Buffers (BatchNorm running statistics) moved as they did alone.
            using var copy = ModelRegistry.Create(new ModelSpec(name, 0), data).to(ScalarType.Float64);
            pack.CopyTo(k, copy);
            var copied = copy.state_dict();
            foreach (var (key, value) in model.state_dict())
                ShouldBeClose(copied[key].to_type(ScalarType.Float64), value.to_type(ScalarType.Float64), $"trial {k} {key}");
        }
    }

    [Fact]
    public void Evaluation_mode_uses_each_trials_running_statistics()
    {
        var members = Members("bncnn-student", Cifar10, 0, 0);
        using var pack = new PackedClassifier(members);
        var images = randn(4, 3, 32, 32);
        pack.Features(images, training: true);
        foreach (var model in members) Alone(model, images, training: true);
        var (logits, _) = pack.Features(images, training: false);
        for (int k = 0; k < 2; k++)
            ShouldBeClose(logits[k], Alone(members[k], images, training: false), $"trial {k}");
    }

    [Fact]
    public void Each_trial_draws_its_dropout_masks_from_its_own_generator_at_its_own_rate()
    {
        // Rates 0, 0.3 and 0.5: the first model has no dropout layer at all, and draws nothing.
        var members = Members("mlp-400", FashionMnist, 0, 0.3, 0.5);
        using var pack = new PackedClassifier(members);
        var images = randn(5, 1, 28, 28);
        pack.Generators = [new Generator(11), new Generator(12), new Generator(13)];
        var (logits, _) = pack.Features(images, training: true);
        for (int k = 0; k < 3; k++)
        {
            // Alone, the model draws from the global generator: seeded as the trial's was, it draws the same masks.
            manual_seed(11 + k);
            ShouldBeClose(logits[k].detach(), Alone(members[k], images, training: true).detach(), $"trial {k}");
        }
        var (again, _) = pack.Features(images, training: true);
        again[2].allclose(logits[2]).ShouldBeFalse("the generator moves on: the next batch draws new masks");
    }

    [Fact]
    public void Weights_move_to_and_from_a_single_model_and_a_pack_keeps_the_trials_it_is_told_to()
    {
        var members = Members("bncnn-student", Cifar10, 0.5, 0.5, 0.5);
        using var pack = new PackedClassifier(members);
        var images = randn(4, 3, 32, 32);
        pack.Keep([2, 0]);
        pack.Count.ShouldBe(2);
        var (logits, _) = pack.Features(images, training: false);
        ShouldBeClose(logits[0], Alone(members[2], images, training: false), "the first kept trial is the old third");
        ShouldBeClose(logits[1], Alone(members[0], images, training: false), "the second kept trial is the old first");

        pack.CopyFrom(1, members[1]);
        ShouldBeClose(pack.Features(images, training: false).Logits[1], Alone(members[1], images, training: false), "a trial loaded from a single model");
    }

    [Fact]
    public void Models_of_different_architectures_do_not_pack()
    {
        var members = new List<Classifier> { ModelRegistry.Create(new ModelSpec("mlp-400"), FashionMnist), ModelRegistry.Create(new ModelSpec("mlp-300"), FashionMnist) };
        Should.Throw<ArgumentException>(() => new PackedClassifier(members));
    }
}
