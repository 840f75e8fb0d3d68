using Orchestrator.Distillation.Data;
using Orchestrator.Distillation.Models;
using Orchestrator.Distillation.Training;
using Orchestrator.Distillation.Trials;
using Orchestrator.Tests;
using Shouldly;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Tests;

/// <summary>
/// The KD benchmark zoo against the literature's PyTorch definitions (written out in python/zoo_reference.py after
/// CRD's models): the same parameter counts, and the same logits once this tool's weights are copied across through
/// the safetensors export.
/// </summary>
public sealed class ZooModelTests
{
    /// <summary>CIFAR-100's shape: the literature's parameter counts are for 100 classes.</summary>
    static readonly DatasetInfo Cifar100 = new("cifar100", 3, 32, 32, 100);

    public static readonly string[] Zoo =
    [
        "resnet8", "resnet14", "resnet20", "resnet32", "resnet44", "resnet56", "resnet110", "resnet8x4", "resnet32x4",
        "wrn-16-1", "wrn-16-2", "wrn-40-1", "wrn-40-2", "vgg8", "vgg11", "vgg13", "mobilenetv2", "shufflenetv1", "shufflenetv2",
    ];

    [Theory]
    [InlineData("resnet8x4", 1.23)]
    [InlineData("resnet32x4", 7.43)]
    [InlineData("wrn-40-2", 2.26)]
    [InlineData("wrn-16-2", 0.70)]
    [InlineData("resnet56", 0.86)]
    [InlineData("resnet20", 0.28)]
    [InlineData("vgg13", 9.46)]
    [InlineData("vgg8", 3.96)]
    public void Parameter_counts_are_the_literatures_for_100_classes(string name, double millions) =>
        // The papers print millions to two places, some rounded, some cut (vgg8 has 3,965,028 and is printed 3.96).
        (ModelRegistry.Validate(new ModelSpec(name)).Parameters(new ModelSpec(name), Cifar100) / 1e6).ShouldBe(millions, tolerance: 0.0051);

    /// <summary>
    /// Real images in CIFAR-100's shape: Fashion-MNIST test images padded to 32x32, three different ones as the three
    /// colour channels, normalised with their own statistics.
    /// </summary>
    static Tensor Images(int count)
    {
        using var raw = (RawImages)DatasetRegistry.Get("fashion-mnist").ReadTest(Path.Combine(TestData.FashionMnistSubset(train: 10, test: 3 * count), "fashion-mnist"));
        using var grey = raw.Pixels.view(3 * count, 1, 28, 28).to_type(ScalarType.Float32).div_(255);
        using var padded = nn.functional.pad(grey, [2, 2, 2, 2]);
        using var colour = padded.view(count, 3, 32, 32);
        return (colour - colour.mean()) / colour.std();
    }

    [Fact]
    public void Every_zoo_model_has_the_references_parameter_count_and_logits()
    {
        const int count = 16;
        using var images = Images(count);
        var exports = new Dictionary<string, string>();
        var ours = new Dictionary<string, (float[] Logits, long Parameters)>();
        foreach (string name in Zoo)
        {
            manual_seed(11);
            using var model = ModelRegistry.Create(new ModelSpec(name), Cifar100);
            using (no_grad())
            {
                model.train(); // running statistics from real batches, so evaluation mode differs from a fresh BatchNorm
                for (int i = 0; i < 2; i++) model.forward(images).Dispose();
                model.eval();
                using var logits = model.forward(images);
                ours[name] = (logits.data<float>().ToArray(), model.ParameterCount);
            }
            string checkpoint = Path.Combine(TestData.TemporaryDirectory(), TrialFolder.BestCheckpointFile);
            Checkpoint.Save(checkpoint, new CheckpointState(new ModelSpec(name), Cifar100, "test", 1, 1, 0.5, 0, [], new InputNormalisation([0, 0, 0], [1, 1, 1])),
                model, optimizer: null);
            exports[name] = TestData.TemporaryDirectory();
            ModelExport.Export(checkpoint, exports[name]);
        }

        string input = Path.Combine(TestData.TemporaryDirectory(), "input.f32");
        File.WriteAllBytes(input, images.bytes.ToArray());
        PyTorch.Run("tests/Distillation.Tests/python/zoo_reference.py",
            [input, count.ToString(), "3", "32", "32", "100", .. Zoo.Select(n => $"{n}={exports[n]}")]);

        foreach (string name in Zoo)
        {
            long.Parse(File.ReadAllText(Path.Combine(exports[name], "reference_parameters.txt"))).ShouldBe(ours[name].Parameters, name);
            var theirs = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(exports[name], "reference_logits.f32"))).ToArray();
            theirs.Length.ShouldBe(count * 100, name);
            float scale = ours[name].Logits.Max(Math.Abs);
            float worst = ours[name].Logits.Zip(theirs, (a, b) => Math.Abs(a - b)).Max();
            TestContext.Current.TestOutputHelper?.WriteLine($"{name}: largest logit difference {worst:E2} of a scale of {scale:F2} ({worst / scale:E2})");
            (worst / scale).ShouldBeLessThan(1e-5f, $"{name}: largest logit difference {worst} of a scale of {scale}");
        }
    }
}
