using Orchestrator.Distillation.Data;
using Orchestrator.Distillation.Models;
using Shouldly;
using static Orchestrator.Distillation.Tests.DatasetShapes;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Tests;

public class ModelTests
{
    // Parameter counts by hand: (inputs + 1) * outputs per linear layer.
    [Theory]
    [InlineData("mlp-1200-1200", 785 * 1200 + 1201 * 1200 + 1201 * 10)] // 2,395,210: the teacher of Hinton et al. and the triplet study
    [InlineData("mlp-400", 785 * 400 + 401 * 10)]                       // 318,010
    [InlineData("mlp-800-800", 785 * 800 + 801 * 800 + 801 * 10)]       // 1,276,810: Hinton's 2x800 student
    public void Mlp_parameter_counts_match_hand_computation(string name, long expected) =>
        ModelRegistry.Create(new ModelSpec(name), FashionMnist).ParameterCount.ShouldBe(expected);

    [Fact]
    public void Cifar_student_matches_the_triplet_study_layout()
    {
        // conv 3-32, 32-32, 32-64 (3x3 weights + bias, BatchNorm weight + bias), fc 1024-128-10.
        long conv = (3 * 9 + 1) * 32 + (32 * 9 + 1) * 32 + (32 * 9 + 1) * 64;
        long batchNorm = 2 * (32 + 32 + 64);
        long fc = (1024 + 1) * 128 + (128 + 1) * 10;
        ModelRegistry.Create(new ModelSpec("bncnn-student"), Cifar10).ParameterCount.ShouldBe(conv + batchNorm + fc);
    }

    [Theory]
    [InlineData("mlp-400", 400)]
    [InlineData("bncnn-teacher", 128)]
    [InlineData("bncnn-student", 128)]
    [InlineData("deepnn", 512)]
    [InlineData("lightnn", 256)]
    [InlineData("alexnet", 512)]
    public void Every_model_gives_logits_and_embedding_on_grey_and_colour_images(string name, int embeddingWidth)
    {
        foreach (var data in new[] { FashionMnist, Cifar10 })
        {
            using var model = ModelRegistry.Create(new ModelSpec(name), data);
            model.eval();
            var (logits, embedding) = model.Features(randn(3, data.Channels, data.Height, data.Width));
            logits.shape.ShouldBe([3, 10]);
            embedding.shape.ShouldBe([3, embeddingWidth]);
        }
    }

    [Fact]
    public void Dropout_option_adds_dropout_layers_that_act_only_in_training()
    {
        using var model = ModelRegistry.Create(new ModelSpec("mlp-400", Dropout: 0.5), FashionMnist);
        var input = randn(4, 1, 28, 28);
        model.eval();
        model.forward(input).allclose(model.forward(input)).ShouldBeTrue();
        model.train();
        model.forward(input).allclose(model.forward(input)).ShouldBeFalse();
    }

    [Theory]
    [InlineData("mlp-40x", "'40x' is not a layer width between 1 and 65536")]
    [InlineData("bncnn-teachr", "did you mean 'bncnn-teacher'")]
    [InlineData("resnet", "known models")]
    public void Unknown_models_are_rejected_with_a_fix(string name, string message) =>
        Should.Throw<UserInputException>(() => ModelRegistry.Create(new ModelSpec(name), FashionMnist)).Message.ShouldContain(message);

    [Fact]
    public void Branches_sum_or_concatenate_their_paths_and_an_empty_path_is_the_identity()
    {
        using var x = arange(2 * 4 * 3 * 3, dtype: ScalarType.Float32).view(2, 4, 3, 3);
        using var residual = new Branches(Merge.Add, ("main", nn.Sequential(("relu", nn.ReLU()))), ("shortcut", nn.Sequential()));
        residual.forward(x).allclose(x + x.relu()).ShouldBeTrue();
        using var halves = new Branches(Merge.Concat, ("left", nn.Sequential(("slice", new ChannelSlice(0, 1)))), ("right", nn.Sequential(("slice", new ChannelSlice(1, 3)))));
        halves.forward(x).allclose(x).ShouldBeTrue(); // channel 0, then channels 1..3: the input again
        residual.named_children().Select(c => c.name).ShouldBe(["main", "shortcut"]); // the state-dict prefixes of its paths
    }

    [Fact]
    public void ChannelShuffle_interleaves_the_channels_of_its_groups()
    {
        using var x = arange(6, dtype: ScalarType.Float32).view(1, 6, 1, 1);
        // Two groups of three, (0 1 2)(3 4 5), interleaved: 0 3 1 4 2 5.
        new ChannelShuffle(2).forward(x).flatten().data<float>().ToArray().ShouldBe([0f, 3, 1, 4, 2, 5]);
        new ChannelShuffle(3).forward(x).flatten().data<float>().ToArray().ShouldBe([0f, 2, 4, 1, 3, 5]);
    }
}
