using Orchestrator.Distillation.Configuration;
using Orchestrator.Distillation.Data;
using Orchestrator.Distillation.Models;
using Orchestrator.Distillation.SoftTargets;
using Orchestrator.Tests;
using Shouldly;
using Orchestrator.Distillation.Trials;
using Orchestrator.Distillation.Training;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Tests;

/// <summary>A tiny CNN trained for one epoch on all of Fashion-MNIST by Debian's PyTorch 1.13 (python/torchscript_teacher.py), scripted and saved, once for the class.</summary>
public sealed class PyTorchTeacherFixture
{
    public string Directory { get; } = TestData.TemporaryDirectory();
    public string Teacher => Path.Combine(Directory, "teacher.pt");
    public string WithEmbedding => Path.Combine(Directory, "teacher-embedding.pt");
    public string FiveClasses => Path.Combine(Directory, "five-classes.pt");
    /// <summary>Returns (logits, embedding, conv map, pooled map): the stages a feature loss compares.</summary>
    public string WithStages => Path.Combine(Directory, "teacher-stages.pt");
    /// <summary>PyTorch's logits for the first 256 test images, [256, 10].</summary>
    public float[] Logits { get; }
    /// <summary>PyTorch's pooled maps of the first 4 test images, [4, 8, 14, 14].</summary>
    public float[] Pooled => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(Directory, "pooled.f32"))).ToArray();

    public PyTorchTeacherFixture()
    {
        PyTorch.Run("tests/Distillation.Tests/python/torchscript_teacher.py", Path.GetDirectoryName(TestData.FashionMnistDirectory)!, Directory);
        Logits = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(Directory, "logits.f32"))).ToArray();
    }
}

/// <summary>
/// Teachers from PyTorch: a TorchScript teacher gives this tool PyTorch's logits (and, naming its stages, its feature
/// maps), distils a student (through feature losses too), and bad files are refused at plan time.
/// </summary>
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

    [Fact]
    public void Naming_its_stages_it_gives_pytorchs_feature_maps_and_teaches_a_zoo_student_through_hints_and_attention()
    {
        using var data = DistillationData.Load(new DataOptions("fashion-mnist", Path.GetDirectoryName(TestData.FashionMnistDirectory), Validation: 5000), CPU);
        using (var teacher = TeacherLoader.Load(new TeacherSource(fixture.WithStages, TorchScript: HalfAndHalf, Stages: ["stage1", "stage2"]), data, CPU))
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            teacher.Stages.ShouldBe(["stage1", "stage2"]);
            var maps = teacher.FeatureMaps(data.Test.Images.narrow(0, 0, 4), ["stage2"]).Maps;
            var theirs = tensor(fixture.Pooled).view(4, 8, 14, 14);
            maps.Single().shape.ShouldBe([4, 8, 14, 14]);
            theirs.abs().max().item<float>().ShouldBeGreaterThan(0.1f);
            (maps[0] - theirs).abs().max().item<float>().ShouldBeLessThan(1e-5f * theirs.abs().max().item<float>());
            (teacher.Features(data.Test.Images.narrow(0, 0, 256)).Logits - tensor(fixture.Logits).view(256, 10)).abs().max().item<float>().ShouldBeLessThan(1e-3f);
        }

        string trial = TestData.WriteFile("trial.yaml", $"""
            dataset: {"{"} name: fashion-mnist, data_dir: {TestData.FashionMnistSubset(train: 2000, test: 500)}, validation: 400 {"}"}
            model: resnet8
            epochs: 1
            loss: {"{"} weights: {"{"} ce: 1, hint: 10, at: 100 {"}"}, stages: [stage1, stage2] {"}"}
            teacher: {"{"} torchscript: {fixture.WithStages}, normalize: {"{"} mean: [0.5], std: [0.5] {"}"}, stages: [stage1, stage2] {"}"}
            soft_targets: online
            """);
        var config = TrialConfig.Load(trial);
        var result = TrialRunner.Run(config, TestData.TemporaryDirectory(), cancellation: TestContext.Current.CancellationToken);
        result.Status.ShouldBe(TrialStatus.Completed);
        result.Epochs[0].LossTerms["hint"].ShouldBeGreaterThan(0);
        result.Epochs[0].LossTerms["at"].ShouldBeGreaterThan(0);
        // Which output is which stage is part of the teacher's identity.
        TrialConfig.Load(TestData.WriteFile("trial.yaml", File.ReadAllText(trial).Replace("stages: [stage1, stage2] }\nsoft", "stages: [stage2, stage1] }\nsoft")))
            .Hash().ShouldNotBe(config.Hash());
    }

    [Theory]
    [InlineData("plain logits", "teacher.stages: ", "with stages: [stage1] it must return a tuple (logits, embedding, stage1)")]
    [InlineData("no stages", "teacher.torchscript: ", "at compare feature maps at named stages; list the TorchScript teacher's with stages: [stage1, stage2, ...]")]
    [InlineData("maps unnamed", "teacher.torchscript: ", "returned a tuple of 4: (a tensor [2, 10], a tensor [2, 32], a tensor [2, 8, 28, 28], a tensor [2, 8, 14, 14]); it must return the logits, or a (logits, embedding) tuple (a teacher that returns feature maps after them names their stages: stages: [stage1, stage2, ...])")]
    [InlineData("other stages", "teacher.stages: ", "the teacher has no stage2 for loss.stages (its stages: stage1, pooled)")]
    [InlineData("twice", "teacher.stages: ", "names stage1 twice")]
    public void A_torchscript_teacher_that_cannot_feed_a_feature_loss_is_refused_at_its_line(string bad, string where, string what)
    {
        string teacher = bad switch
        {
            "plain logits" => $"{{ torchscript: {fixture.Teacher}, normalize: {{ mean: [0.5], std: [0.5] }}, stages: [stage1] }}",
            "no stages" => $"{{ torchscript: {fixture.Teacher}, normalize: {{ mean: [0.5], std: [0.5] }} }}",
            "maps unnamed" => $"{{ torchscript: {fixture.WithStages}, normalize: {{ mean: [0.5], std: [0.5] }} }}",
            "other stages" => $"{{ torchscript: {fixture.WithStages}, normalize: {{ mean: [0.5], std: [0.5] }}, stages: [stage1, pooled] }}",
            _ => $"{{ torchscript: {fixture.WithStages}, normalize: {{ mean: [0.5], std: [0.5] }}, stages: [stage1, stage1] }}",
        };
        string trial = TestData.WriteFile("trial.yaml", $"""
            dataset: {"{"} name: fashion-mnist, data_dir: {TestData.FashionMnistSubset(train: 2000, test: 500)}, validation: 400 {"}"}
            model: resnet8
            loss: {"{"} weights: {"{"} ce: 1, at: 1000 {"}"}, stages: [stage1, stage2] {"}"}
            soft_targets: online
            teacher: {teacher}
            """);
        var message = Should.Throw<UserInputException>(() => TrialConfig.Load(trial)).Message;
        message.ShouldContain("trial.yaml:5:");
        message.ShouldContain(where);
        message.ShouldContain(what);
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
