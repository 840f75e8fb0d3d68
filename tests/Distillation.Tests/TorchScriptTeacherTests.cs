using Orchestrator.Distillation.Configuration;
using Orchestrator.Distillation.Data;
using Orchestrator.Distillation.Models;
using Orchestrator.Distillation.SoftTargets;
using Orchestrator.Tests;
using Shouldly;
using Orchestrator.Distillation.Trials;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Tests;

/// <summary>A tiny CNN trained for one epoch on all of Fashion-MNIST by Debian's PyTorch 1.13 (python/torchscript_teacher.py), scripted and saved, once for the class.</summary>
public sealed class PyTorchTeacherFixture
{
    public string Directory { get; } = TestData.TemporaryDirectory();
    public string Teacher => Path.Combine(Directory, "teacher.pt");
    public string WithEmbedding => Path.Combine(Directory, "teacher-embedding.pt");
    public string FiveClasses => Path.Combine(Directory, "five-classes.pt");
    /// <summary>PyTorch's logits for the first 256 test images, [256, 10].</summary>
    public float[] Logits { get; }

    public PyTorchTeacherFixture()
    {
        PyTorch.Run("tests/Distillation.Tests/python/torchscript_teacher.py", Path.GetDirectoryName(TestData.FashionMnistDirectory)!, Directory);
        Logits = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(Directory, "logits.f32"))).ToArray();
    }
}

/// <summary>Teachers from PyTorch: a TorchScript teacher gives this tool PyTorch's logits, distils a student, and bad files are refused at plan time.</summary>
public sealed class TorchScriptTeacherTests(PyTorchTeacherFixture fixture) : IClassFixture<PyTorchTeacherFixture>
{
    static readonly InputNormalisation HalfAndHalf = new([0.5f], [0.5f]); // the script's own (x - 0.5) / 0.5

    [Fact]
    public void Its_logits_for_256_test_images_are_pytorchs_within_float_round_off_and_a_tuple_gives_the_embedding_too()
    {
        using var data = DistillationData.Load(new DataOptions("fashion-mnist", Path.GetDirectoryName(TestData.FashionMnistDirectory), Validation: 5000), CPU);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var images = data.Test.Images.narrow(0, 0, 256);
        using var teacher = TeacherLoader.Load(new TeacherSource(fixture.Teacher, TorchScript: HalfAndHalf), data, CPU);
        var (logits, embedding) = teacher.Features(images);
        logits.shape.ShouldBe([256, 10]);
        embedding.ShouldBeNull();
        var theirs = tensor(fixture.Logits).view(256, 10);
        // Within 1e-5 of the logits' scale: libtorch 2.10 here and PyTorch 1.13 there sum a convolution in different
        // orders, so float32 round-off differs (1.1e-5 at most here, on logits up to about 14); the inputs are the same floats.
        float scale = theirs.abs().max().item<float>();
        scale.ShouldBeGreaterThan(1f); // real logits: the check below could fail
        (logits - theirs).abs().max().item<float>().ShouldBeLessThan(1e-5f * scale);
        logits.argmax(1).eq(data.Test.Labels.narrow(0, 0, 256)).to_type(ScalarType.Float32).mean().item<float>().ShouldBeGreaterThan(0.7f);

        using var pair = TeacherLoader.Load(new TeacherSource(fixture.WithEmbedding, TorchScript: HalfAndHalf), data, CPU);
        var (pairLogits, pairEmbedding) = pair.Features(images);
        (pairLogits - theirs).abs().max().item<float>().ShouldBeLessThan(1e-5f * scale);
        pairEmbedding.shape.ShouldBe([256, 32]);
        // Fed as it does not expect (no re-normalisation), it answers differently: the normalisation is applied.
        using var unnormalised = TeacherLoader.Load(new TeacherSource(fixture.Teacher, TorchScript: data.Normalisation), data, CPU);
        (unnormalised.Features(images).Logits - theirs).abs().max().item<float>().ShouldBeGreaterThan(0.1f);
    }

    string Trial(string teacher, string model = "mlp-400") => TestData.WriteFile("trial.yaml", $"""
        dataset: {"{"} name: fashion-mnist, data_dir: {TestData.FashionMnistSubset(train: 2000, test: 500)}, validation: 400 {"}"}
        model: {model}
        epochs: 1
        loss: {"{"} terms: [ce, hinton], alpha: 0.7, temperature: 4 {"}"}
        teacher: {teacher}
        """);

    [Fact]
    public void It_distils_a_student_from_cached_soft_targets_as_a_built_in_teacher_does()
    {
        string store = TestData.TemporaryDirectory();
        var config = TrialConfig.Load(Trial($"{{ torchscript: {fixture.Teacher}, normalize: {{ mean: [0.5], std: [0.5] }} }}"));
        config.Teacher!.Members.Single().TorchScript!.Std.ShouldBe([0.5f]);
        var run = TrialRunner.Run(config, TestData.TemporaryDirectory(), softTargetDirectory: store, cancellation: TestContext.Current.CancellationToken);
        run.Status.ShouldBe(Training.TrialStatus.Completed);
        run.SoftTargets.Length.ShouldBe(32);
        run.TeacherTestAccuracy!.Value.ShouldBeGreaterThan(0.7);
        run.Epochs[0].LossTerms.Keys.ShouldContain("hinton");
        // Online, the same teacher gives the student the same targets, step by step.
        var online = TrialRunner.Run(TrialConfig.Load(Trial($"{{ torchscript: {fixture.Teacher}, normalize: {{ mean: [0.5], std: [0.5] }}, soft_targets: online }}")),
            TestData.TemporaryDirectory(), softTargetDirectory: store, cancellation: TestContext.Current.CancellationToken);
        online.SoftTargets.ShouldBe("online");
        online.Epochs[0].TrainLoss.ShouldBe(run.Epochs[0].TrainLoss, tolerance: 1e-4);
        online.TeacherTestAccuracy!.Value.ShouldBe(run.TeacherTestAccuracy.Value, tolerance: 1e-9);
        // Its normalisation is part of the soft targets' key: fed another way, it is another teacher.
        var other = TrialConfig.Load(Trial($"{{ torchscript: {fixture.Teacher}, normalize: {{ mean: [0], std: [1] }} }}"));
        other.Teacher!.Members.Single().Verify().ShouldNotBe(config.Teacher.Members.Single().Verify());
    }

    [Theory]
    [InlineData("not-torchscript", "teacher.torchscript: ", "is not a TorchScript module")]
    [InlineData("five-classes", "teacher.torchscript: ", "returns 5 logits per image; fashion-mnist has 10 classes")]
    [InlineData("no-normalize", "teacher.torchscript: say how the teacher expects its input normalised", "")]
    [InlineData("wrong-pin", "teacher.sha256: ", "the file is not the pinned teacher")]
    public void A_bad_teacher_file_is_refused_at_its_line_before_anything_runs(string bad, string where, string what)
    {
        string junk = TestData.WriteFile("teacher.pt", "not a model");
        string teacher = bad switch
        {
            "not-torchscript" => $"{{ torchscript: {junk}, normalize: {{ mean: [0.5], std: [0.5] }} }}",
            "five-classes" => $"{{ torchscript: {fixture.FiveClasses}, normalize: {{ mean: [0.5], std: [0.5] }} }}",
            "no-normalize" => $"{{ torchscript: {fixture.Teacher} }}",
            _ => $"{{ torchscript: {fixture.Teacher}, normalize: {{ mean: [0.5], std: [0.5] }}, sha256: {new string('0', 64)} }}",
        };
        var message = Should.Throw<UserInputException>(() => TrialConfig.Load(Trial(teacher))).Message;
        message.ShouldContain("trial.yaml:5:");
        message.ShouldContain(where);
        message.ShouldContain(what);
    }
}
