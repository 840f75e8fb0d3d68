using Orchestrator.Distillation.Data;
using Orchestrator.Distillation.Models;
using Shouldly;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Tests;

/// <summary>
/// What a trained model costs: multiply-accumulates counted from the layer plan against hand counts for an MLP and a
/// ResNet, bytes of weights and buffers, and latency timed within its budget (the run count recorded).
/// </summary>
public sealed class ModelCostTests
{
    static readonly DatasetInfo FashionMnist = new("fashion-mnist", 1, 28, 28, 10);

    [Fact]
    public void An_mlps_multiply_accumulates_are_its_weight_matrices()
    {
        using var mlp = ModelRegistry.Create(new ModelSpec("mlp-1200-1200"), FashionMnist);
        ModelCost.CountMultiplyAccumulates(mlp, FashionMnist).ShouldBe(784 * 1200 + 1200 * 1200 + 1200 * 10);
    }

    [Fact]
    public void A_resnets_multiply_accumulates_are_its_convolutions_at_their_output_sizes_and_its_head()
    {
        // resnet8 (CRD's CIFAR ResNet, widths 16, 16, 32, 64, one basic block per stage) on 28x28: 28, 14 and 7 pixels a side.
        long stem = 28 * 28 * 16 * 1 * 9;
        long stage1 = 2 * (28 * 28 * 16 * 16 * 9);
        long stage2 = 14 * 14 * 32 * 16 * 9 + 14 * 14 * 32 * 32 * 9 + 14 * 14 * 32 * 16; // strided conv, conv, 1x1 shortcut
        long stage3 = 7 * 7 * 64 * 32 * 9 + 7 * 7 * 64 * 64 * 9 + 7 * 7 * 64 * 32;
        long head = 64 * 10;
        using var resnet = ModelRegistry.Create(new ModelSpec("resnet8"), FashionMnist);
        ModelCost.CountMultiplyAccumulates(resnet, FashionMnist).ShouldBe(stem + stage1 + stage2 + stage3 + head);
    }

    [Fact]
    public void Every_zoo_model_is_counted_and_a_model_scripted_in_pytorch_is_not()
    {
        var cifar = new DatasetInfo("cifar100", 3, 32, 32, 100);
        foreach (string name in new[] { "wrn-16-2", "vgg8", "mobilenetv2", "shufflenetv2", "resnet8x4" })
        {
            using var model = ModelRegistry.Create(new ModelSpec(name), cifar);
            ModelCost.CountMultiplyAccumulates(model, cifar)!.Value.ShouldBeGreaterThan(model.ParameterCount, name); // each weight is used at least once per sample
        }
    }

    [Fact]
    public void Its_bytes_are_its_weights_and_buffers_and_its_latency_takes_at_most_its_budget()
    {
        using var resnet = ModelRegistry.Create(new ModelSpec("resnet8"), FashionMnist);
        var cost = ModelCost.Measure(resnet, FashionMnist, CPU, trainingSeconds: 3600);
        cost.Parameters.ShouldBe(resnet.ParameterCount);
        long buffers = resnet.named_buffers().Where(b => b.buffer.is_floating_point()).Sum(b => b.buffer.numel()); // BatchNorm's running statistics
        buffers.ShouldBeGreaterThan(0);
        cost.Float32Bytes.ShouldBe(4 * (resnet.ParameterCount + buffers));
        cost.Float16Bytes.ShouldBe(cost.Float32Bytes / 2);
        cost.Batch1.Runs.ShouldBe(ModelCost.LatencyRuns); // an hour of training allows every run
        cost.Batch1.MedianMilliseconds.ShouldBeGreaterThan(0);
        cost.Batch256.MedianMilliseconds.ShouldBeGreaterThan(cost.Batch1.MedianMilliseconds);
        cost.Device.ShouldBe("cpu");
        resnet.training.ShouldBeTrue(); // left as it was

        var rushed = ModelCost.Measure(resnet, FashionMnist, CPU, trainingSeconds: 0.01); // a budget of 0.25 ms: one run each, recorded
        rushed.Batch1.Runs.ShouldBe(1);
        rushed.Batch256.Runs.ShouldBe(1);
    }
}
