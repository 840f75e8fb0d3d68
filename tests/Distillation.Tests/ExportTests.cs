using System.Text.Json;
using Orchestrator.Distillation.Data;
using Orchestrator.Distillation.Models;
using Orchestrator.Distillation.Training;
using Orchestrator.Distillation.Trials;
using Orchestrator.Tests;
using Shouldly;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Tests;

/// <summary>
/// Students out to PyTorch: every built-in architecture, the zoo's included, exported as safetensors + model.json, rebuilt by
/// examples/pytorch/orchestrator_model.py in Debian's python3-torch, gives this tool's logits on real Fashion-MNIST images.
/// </summary>
public sealed class ExportTests : IDisposable
{
    const int Images = 64;
    readonly string dataRoot = TestData.FashionMnistSubset(train: 1000, test: Images);
    readonly DistillationData data;

    // The split TrainingTests.Config trains on, so a trained student's normalisation is this data's.
    public ExportTests() => data = DistillationData.Load(new DataOptions("fashion-mnist", dataRoot, Validation: 400), CPU);

    public void Dispose() => data.Dispose();

    /// <summary>A checkpoint of <paramref name="model"/> with random weights and, for BatchNorm, running statistics of real batches.</summary>
    string Checkpointed(string model)
    {
        manual_seed(5);
        using var classifier = ModelRegistry.Create(new ModelSpec(model), data.Info);
        classifier.train();
        using (no_grad())
            for (int step = 0; step < 3; step++) classifier.forward(data.Train.Images.narrow(0, 64 * step, 64)).Dispose();
        string path = Path.Combine(TestData.TemporaryDirectory(), TrialFolder.BestCheckpointFile);
        Checkpoint.Save(path, new CheckpointState(new ModelSpec(model), data.Info, "test", 1, 1, 0.5, 0, [], data.Normalisation), classifier, optimizer: null);
        return path;
    }

    float[] OurLogits(string checkpoint)
    {
        var state = Checkpoint.ReadState(checkpoint);
        using var model = ModelRegistry.Create(state.Model, data.Info);
        Checkpoint.Load(checkpoint, model);
        model.eval();
        using var _ = no_grad();
        using var logits = model.forward(data.Test.Images.narrow(0, 0, Images));
        return logits.data<float>().ToArray();
    }

    /// <summary>Runs tests/Distillation.Tests/exported_logits.py on the raw test images for each export folder; returns PyTorch's logits per folder.</summary>
    List<float[]> PyTorchLogits(IReadOnlyList<string> exports)
    {
        using var raw = (RawImages)DatasetRegistry.Get("fashion-mnist").ReadTest(Path.Combine(dataRoot, "fashion-mnist"));
        string images = Path.Combine(TestData.TemporaryDirectory(), "images.u8");
        File.WriteAllBytes(images, raw.Pixels.bytes.ToArray());
        PyTorch.Run("tests/Distillation.Tests/python/exported_logits.py",
            [images, raw.Count.ToString(), raw.Channels.ToString(), raw.Height.ToString(), raw.Width.ToString(), .. exports]);
        return exports.Select(e => File.ReadAllBytes(Path.Combine(e, "pytorch_logits.f32"))).Select(Floats).ToList();
    }

    static float[] Floats(byte[] littleEndian) => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(littleEndian).ToArray();

    [Fact]
    public void Every_built_in_architecture_gives_pytorch_the_same_logits_within_1e_5_of_their_scale()
    {
        string[] models = ["mlp-400", "mlp-1200-1200", "bncnn-teacher", "bncnn-student", "deepnn", "lightnn", "alexnet", .. ZooModelTests.Zoo];
        var checkpoints = models.Select(Checkpointed).ToList();
        var exports = checkpoints.Select(c =>
        {
            string folder = TestData.TemporaryDirectory();
            ModelExport.Export(c, folder);
            return folder;
        }).ToList();
        var theirs = PyTorchLogits(exports);
        for (int i = 0; i < models.Length; i++)
        {
            var ours = OurLogits(checkpoints[i]);
            theirs[i].Length.ShouldBe(Images * 10, models[i]);
            float worst = ours.Zip(theirs[i], (a, b) => Math.Abs(a - b)).Max(), scale = ours.Select(Math.Abs).Max();
            // Relative to the logits' scale: a deep net's random logits reach thousands (resnet110), and float32 round-off with them.
            (worst / scale).ShouldBeLessThan(1e-5f, $"{models[i]}: largest logit difference {worst} of a scale of {scale}");
            scale.ShouldBeGreaterThan(0.01f, models[i]); // logits, not zeros: the check above could fail
        }
    }

    [Fact]
    public void A_trained_students_export_names_its_tensors_as_pytorchs_state_dict_and_records_its_input()
    {
        string folder = TestData.TemporaryDirectory();
        TrialRunner.Run(TrainingTests.Config(dataRoot, "bncnn-student", epochs: 1), folder, cancellation: TestContext.Current.CancellationToken);
        string export = TestData.TemporaryDirectory();
        var exported = ModelExport.Export(Path.Combine(folder, TrialFolder.BestCheckpointFile), export);

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(export, ModelExport.ModelFile)));
        var root = json.RootElement;
        root.GetProperty("architecture").GetString().ShouldBe("bncnn-student");
        root.GetProperty("normalize").GetProperty("mean")[0].GetSingle().ShouldBe(data.Normalisation.Mean[0]);
        root.GetProperty("normalize").GetProperty("std")[0].GetSingle().ShouldBe(data.Normalisation.Std[0]);
        root.GetProperty("input").GetProperty("height").GetInt32().ShouldBe(28);
        root.GetProperty("layers")[0].GetProperty("name").GetString().ShouldBe("features");
        root.GetProperty("layers")[0].GetProperty("layers")[0].GetProperty("name").GetString().ShouldBe("conv1");
        exported.BestEpoch.ShouldBe(1);

        var header = SafetensorsHeader(Path.Combine(export, ModelExport.WeightsFile));
        using var model = ModelRegistry.Create(new ModelSpec("bncnn-student"), data.Info);
        header.Keys.Where(k => k != "__metadata__").Order().ShouldBe(model.state_dict().Keys.Order());
        header.Keys.ShouldContain("features.bn1.running_var");
        header["features.bn1.num_batches_tracked"].GetProperty("dtype").GetString().ShouldBe("I64");
        header["head.weight"].GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ShouldBe([10, 128]);
        PyTorchLogits([export]).Single().Zip(OurLogits(Path.Combine(folder, TrialFolder.BestCheckpointFile)), (a, b) => Math.Abs(a - b)).Max().ShouldBeLessThan(1e-5f);
    }

    static Dictionary<string, JsonElement> SafetensorsHeader(string path)
    {
        var bytes = File.ReadAllBytes(path);
        long length = BitConverter.ToInt64(bytes, 0);
        (length % 8).ShouldBe(0);
        using var header = JsonDocument.Parse(bytes.AsMemory(8, (int)length));
        var entries = header.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone());
        long end = entries.Where(e => e.Key != "__metadata__").Max(e => e.Value.GetProperty("data_offsets")[1].GetInt64());
        (8 + length + end).ShouldBe(bytes.Length); // the header's byte ranges cover the file exactly
        return entries;
    }

    [Fact]
    public void A_checkpoint_without_its_input_normalisation_is_refused_with_what_to_do()
    {
        string path = Checkpointed("mlp-400");
        var state = Checkpoint.ReadState(path);
        using var model = ModelRegistry.Create(state.Model, data.Info);
        Checkpoint.Load(path, model);
        Checkpoint.Save(path, state with { Normalisation = null }, model, optimizer: null);
        Should.Throw<UserInputException>(() => ModelExport.Export(path, TestData.TemporaryDirectory())).Message
            .ShouldContain("was written before checkpoints recorded how their input is normalised; train it again");
    }
}
