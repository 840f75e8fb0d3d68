using System.Text.Json;
using Orchestrator.Distillation.Configuration;
using Orchestrator.Distillation.Data;
using Orchestrator.Distillation.Models;
using Orchestrator.Distillation.Training;
using Orchestrator.Distillation.Trials;
using Orchestrator.Tests;
using Shouldly;
using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace Orchestrator.Distillation.Tests;

/// <summary>Untrained students scripted by Debian's PyTorch 1.13 (python/torchscript_student.py), once for the class, and a Fashion-MNIST subset.</summary>
public sealed class PyTorchStudentFixture
{
    public string Directory { get; } = TestData.TemporaryDirectory();
    public string DataRoot { get; } = TestData.FashionMnistSubset(train: 2000, test: 500);
    public string Student => Path.Combine(Directory, "student.pt");
    public string LogitsOnly => Path.Combine(Directory, "logits-only.pt");
    public string FiveClasses => Path.Combine(Directory, "five-classes.pt");

    public PyTorchStudentFixture() => PyTorch.Run("tests/Distillation.Tests/python/torchscript_student.py", Directory);
}

/// <summary>
/// Students from PyTorch: a TorchScript student trains here alone from its file's weights, resumes exactly, distils from a
/// teacher, exports back as TorchScript that PyTorch runs with this tool's logits, and bad files are refused at their line
/// (TorchScriptFiles' load and output checks, shared with TorchScript teachers).
/// </summary>
public sealed class TorchScriptStudentTests(PyTorchStudentFixture fixture) : IClassFixture<PyTorchStudentFixture>
{
    string Trial(string model, int epochs = 3, string extra = "") => TestData.WriteFile("trial.yaml", $"""
        dataset: {"{"} name: fashion-mnist, data_dir: {fixture.DataRoot}, validation: 400 {"}"}
        model: {model}
        epochs: {epochs}
        batch_size: 64
        optimizer: {"{"} name: sgd, lr: 0.05, momentum: 0.9, weight_decay: 5e-4 {"}"}
        seed: 1
        {extra}
        """);

    TrainingResult Run(TrialConfig config, string directory, Action<EpochMetrics>? onEpoch = null, CancellationToken? cancellation = null) =>
        TrialRunner.Run(config, directory, onEpoch, log: null, cancellation ?? TestContext.Current.CancellationToken);

    /// <summary>Everything an epoch measured except wall-clock time.</summary>
    static object Measured(EpochMetrics m) => (m.Epoch, m.TrainLoss, m.TrainAccuracy, m.ValidationLoss, m.ValidationAccuracy);

    [Fact]
    public void It_trains_from_its_files_weights_resumes_exactly_and_exports_back_as_torchscript_that_gives_pytorch_its_logits()
    {
        var config = TrialConfig.Load(Trial($"{{ torchscript: {fixture.Student} }}"));
        config.Model.Name.ShouldBe("student.pt");
        config.Model.Sha256.ShouldBe(FileDigest.Sha256(fixture.Student));
        using (var built = ModelRegistry.Create(config.Model, DatasetShapes.FashionMnist)) built.ShouldBeOfType<TorchScriptStudent>();
        string whole = TestData.TemporaryDirectory();
        var uninterrupted = Run(config, whole);
        uninterrupted.Status.ShouldBe(TrialStatus.Completed);
        uninterrupted.Parameters.ShouldBe(5227); // PyTorch's count for the script: convolutions, BatchNorms, head and the scalar
        uninterrupted.BestValidationAccuracy.ShouldBeGreaterThan(0.4); // chance is 0.1: it learned (75 steps of a 5k-parameter CNN)
        uninterrupted.Epochs.Select(e => e.TrainLoss).ShouldBeInOrder(SortDirection.Descending);

        // Interrupted after its first epoch and run again: it resumes from last.ckpt (weights, BatchNorm statistics,
        // momentum) and ends exactly where the uninterrupted run ended.
        string parted = TestData.TemporaryDirectory();
        using var stop = new CancellationTokenSource();
        Run(config, parted, m => { if (m.Epoch == 1) stop.Cancel(); }, stop.Token).Status.ShouldBe(TrialStatus.Cancelled);
        Checkpoint.ReadState(Path.Combine(parted, TrialFolder.LastCheckpointFile)).EpochsDone.ShouldBe(1);
        var resumed = Run(config, parted);
        resumed.Epochs.Select(Measured).ShouldBe(uninterrupted.Epochs.Select(Measured));
        resumed.TestAccuracy.ShouldBe(uninterrupted.TestAccuracy);

        // Exported: model.pt is the script with the trained weights, and PyTorch runs it to this tool's logits.
        string export = TestData.TemporaryDirectory(), best = Path.Combine(whole, TrialFolder.BestCheckpointFile);
        var exported = ModelExport.Export(best, export);
        exported.TorchScript.ShouldBe(ModelExport.TorchScriptFile);
        exported.Layers.ShouldBeEmpty();
        JsonDocument.Parse(File.ReadAllText(Path.Combine(export, ModelExport.ModelFile))).RootElement.GetProperty("torchscript").GetString().ShouldBe("model.pt");
        using var data = DistillationData.Load(config.Data, CPU);
        const int images = 64;
        var (ours, initial) = OurLogits(best, data, images);
        var theirs = PyTorchLogits(export, images);
        float worst = ours.Zip(theirs, (a, b) => Math.Abs(a - b)).Max(), scale = ours.Select(Math.Abs).Max();
        scale.ShouldBeGreaterThan(1f); // real logits: the check below could fail
        (worst / scale).ShouldBeLessThan(1e-5f, $"largest logit difference {worst} of a scale of {scale}");
        // and those are trained weights, not the file's.
        ours.Zip(initial, (a, b) => Math.Abs(a - b)).Max().ShouldBeGreaterThan(0.1f);
    }

    /// <summary>The logits of the best checkpoint and of the untrained file for the first test images, in evaluation.</summary>
    (float[] Trained, float[] Initial) OurLogits(string checkpoint, DistillationData data, int count)
    {
        var state = Checkpoint.ReadState(checkpoint);
        using var trained = ModelRegistry.Create(state.Model, data.Info);
        using var initial = ModelRegistry.Create(state.Model, data.Info);
        Checkpoint.Load(checkpoint, trained);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var batch = data.Test.Images.narrow(0, 0, count);
        trained.eval();
        initial.eval();
        return (trained.forward(batch).data<float>().ToArray(), initial.forward(batch).data<float>().ToArray());
    }

    /// <summary>PyTorch's logits for the first test images, from the export, through examples/pytorch/orchestrator_model.py.</summary>
    float[] PyTorchLogits(string export, int count)
    {
        using var raw = (RawImages)DatasetRegistry.Get("fashion-mnist").ReadTest(Path.Combine(fixture.DataRoot, "fashion-mnist"));
        string images = Path.Combine(TestData.TemporaryDirectory(), "images.u8");
        using (var first = raw.Pixels.narrow(0, 0, count).contiguous()) File.WriteAllBytes(images, first.bytes.ToArray());
        PyTorch.Run("tests/Distillation.Tests/python/exported_logits.py", images, count.ToString(), "1", "28", "28", export);
        return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(export, "pytorch_logits.f32"))).ToArray();
    }

    [Fact]
    public void It_distils_from_a_teacher_through_its_logits_and_its_embedding()
    {
        string teacherRun = TestData.TemporaryDirectory();
        TrialRunner.Run(TrialConfig.Load(Trial("mlp-256", epochs: 1)), teacherRun, cancellation: TestContext.Current.CancellationToken).Status.ShouldBe(TrialStatus.Completed);
        string teacher = Path.Combine(teacherRun, TrialFolder.BestCheckpointFile);
        var config = TrialConfig.Load(Trial($"{{ torchscript: {fixture.Student} }}", epochs: 1,
            $"loss: {{ weights: {{ ce: 0.5, hinton: 0.5, rkd-d: 1 }}, features: embedding, temperature: 4 }}\nteacher: {teacher}\nsoft_targets: online"));
        var run = Run(config, TestData.TemporaryDirectory());
        run.Status.ShouldBe(TrialStatus.Completed);
        run.Epochs[0].LossTerms.Keys.ShouldBe(["ce", "hinton", "rkd-d"], ignoreOrder: true);
        run.Epochs[0].LossTerms.Values.ShouldAllBe(v => v > 0);

        // Without an embedding from its forward, a loss on embeddings is refused at its line.
        Should.Throw<UserInputException>(() => TrialConfig.Load(Trial($"{{ torchscript: {fixture.LogitsOnly} }}", epochs: 1,
                $"loss: {{ weights: {{ ce: 0.5, rkd-d: 1 }}, features: embedding }}\nteacher: {teacher}")))
            .Message.ShouldContain("features: embedding: the student " + fixture.LogitsOnly + " returns its logits only");
    }

    [Theory]
    [InlineData("notes", "model.torchscript: {0} is not a TorchScript module")]
    [InlineData("five", "model.torchscript: {0} returns 5 logits per image; fashion-mnist has 10 classes.")]
    [InlineData("missing", "model.torchscript: {0} does not exist.")]
    [InlineData("dropout", "model.dropout: model {0}: dropout is set in a TorchScript student's own code")]
    [InlineData("name", "model.name: a TorchScript student is named by its file")]
    [InlineData("pin", "model.sha256: {0} has sha256 ")]
    public void A_bad_student_file_is_refused_at_its_line(string what, string expected)
    {
        string notes = TestData.WriteFile("notes.pt", "not a module");
        var (path, model) = what switch
        {
            "notes" => (notes, $"{{ torchscript: {notes} }}"),
            "five" => (fixture.FiveClasses, $"{{ torchscript: {fixture.FiveClasses} }}"),
            "missing" => (fixture.Student + ".missing", $"{{ torchscript: {fixture.Student}.missing }}"),
            "dropout" => (fixture.Student, $"{{ torchscript: {fixture.Student}, dropout: 0.2 }}"),
            "name" => (fixture.Student, $"{{ torchscript: {fixture.Student}, name: resnet8 }}"),
            _ => (fixture.Student, $"{{ torchscript: {fixture.Student}, sha256: {new string('0', 64)} }}"),
        };
        var error = Should.Throw<UserInputException>(() => TrialConfig.Load(Trial(model)));
        error.Message.ShouldContain("trial.yaml:2:");
        error.Message.ShouldContain(string.Format(expected, path));
    }

    [Fact]
    public void A_trial_whose_student_file_changed_since_it_was_read_is_refused_and_writes_nothing()
    {
        string student = Path.Combine(TestData.TemporaryDirectory(), "student.pt");
        File.Copy(fixture.Student, student);
        var config = TrialConfig.Load(Trial($"{{ torchscript: {student} }}", epochs: 1));
        File.Copy(fixture.LogitsOnly, student, overwrite: true);
        string output = TestData.TemporaryDirectory();
        Should.Throw<UserInputException>(() => Run(config, output)).Message.ShouldContain($"TorchScript student {student} changed since the trial was planned");
        System.IO.Directory.EnumerateFileSystemEntries(output).ShouldBeEmpty();
        // Read again, it is another trial: another identity.
        TrialConfig.Load(Trial($"{{ torchscript: {student} }}", epochs: 1)).Hash().ShouldNotBe(config.Hash());
    }

    [Fact]
    public void It_never_shares_a_pack_whatever_the_sweep_asks()
    {
        var config = TrialConfig.Load(Trial($"{{ torchscript: {fixture.Student} }}"));
        PackSizing.Limits(8, config).ShouldBe((1, 1));
        PackSizing.Limits(0, config).ShouldBe((1, 1));
        using var a = ModelRegistry.Create(config.Model, DatasetShapes.FashionMnist);
        using var b = ModelRegistry.Create(config.Model, DatasetShapes.FashionMnist);
        Should.Throw<NotSupportedException>(() => new PackedClassifier([a, b]));
    }

    /// <summary>Three trials' settings: SGD with Nesterov momentum and decay, Adam with decay, AdamW.</summary>
    public static TheoryData<string, bool> Optimizers => new() { { "sgd", true }, { "sgd", false }, { "adam", false }, { "adamw", false } };

    [Theory]
    [MemberData(nameof(Optimizers))]
    public void The_packed_optimizer_moves_its_unstacked_weights_as_torchsharps_optimizer_does_and_hands_its_state_over(string kind, bool nesterov)
    {
        var settings = new OptimizerOptions(kind, 0.02, Momentum: 0.8, Nesterov: nesterov, WeightDecay: 1e-2);
        var spec = TrialConfig.Load(Trial($"{{ torchscript: {fixture.Student} }}")).Model;
        using var ours = ModelRegistry.Create(spec, DatasetShapes.FashionMnist);
        using var theirs = ModelRegistry.Create(spec, DatasetShapes.FashionMnist);
        using var pack = new UnfusedStudent(ours);
        using var packed = new PackedOptimizer(pack, [settings]);
        using var reference = Training.Optimizers.Create(settings, theirs.parameters());
        theirs.eval(); // no dropout: both draw nothing, so their steps see the same function
        Steps(pack, packed, theirs, reference, 0, 4);
        ShouldMatch(ours, theirs, "after 4 steps");

        // Handed to an ordinary optimizer (a checkpoint's), and back into a new packed optimizer (a resumed trial).
        using var handed = Training.Optimizers.Create(settings, ours.parameters());
        packed.CopyTo(0, ours, handed);
        using var resumed = new PackedOptimizer(pack, [settings]);
        resumed.CopyFrom(0, ours, handed);
        Steps(pack, resumed, theirs, reference, 4, 7);
        ShouldMatch(ours, theirs, "after the hand-over and 3 more steps");
    }

    static void Steps(UnfusedStudent pack, PackedOptimizer packed, Classifier alone, TorchSharp.Modules.OptimizerHelper optimizer, int from, int to)
    {
        for (int step = from; step < to; step++)
        {
            using var scope = NewDisposeScope();
            var images = randn(new long[] { 16, 1, 28, 28 }, generator: new Generator((ulong)step + 1));
            var labels = randint(0, 10, new long[] { 16 }, generator: new Generator((ulong)step + 100));
            packed.ZeroGrad();
            // Evaluation mode for both: BatchNorm uses its running statistics, dropout is off.
            cross_entropy(pack.Features(images, training: false).Logits[0], labels).backward();
            packed.Step();
            optimizer.zero_grad();
            cross_entropy(alone.Features(images).Logits, labels).backward();
            optimizer.step();
        }
    }

    static void ShouldMatch(Classifier ours, Classifier theirs, string when)
    {
        var weights = theirs.state_dict();
        foreach (var (key, weight) in ours.state_dict())
            weight.allclose(weights[key], rtol: 1e-4, atol: 1e-6).ShouldBeTrue($"{when}: {key}");
    }
}
