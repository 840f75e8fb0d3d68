using System.Text.Json;
using Orchestrator.Distillation.Configuration;
using Orchestrator.Distillation.Data;
using Orchestrator.Distillation.Losses;
using Orchestrator.Distillation.Models;
using Orchestrator.Distillation.SoftTargets;
using Orchestrator.Distillation.Training;
using Orchestrator.Distillation.Trials;
using Orchestrator.Tests;
using Shouldly;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Tests;

/// <summary>
/// Attention transfer against CRD's code in Debian's PyTorch (python/attention_transfer.py), value and gradients in
/// float64: maps of equal size, a larger student's and a larger teacher's (pooled), and a map of zeros; in a pack of
/// 4 each trial gives what it gives alone. The zoo's stages, fused in a pack, are each model's own feature maps.
/// </summary>
public sealed class AttentionTransferTests
{
    const int B = 3;

    /// <summary>A closed-form feature map [B, C, side, side], different for each seed.</summary>
    static double[] Map(int channels, int side, int seed, bool zeros = false) =>
        Enumerable.Range(0, B * channels * side * side).Select(i => zeros ? 0 : Math.Sin(0.37 * i + seed) * (1 + seed % 3) + Math.Cos(0.11 * i * seed)).ToArray();

    /// <summary>A case: each stage's student and teacher maps as (channels, side) and whether the student's map is zeros.</summary>
    public sealed record Case(string Name, (int Channels, int Side, int SeedOffset)[] Student, (int Channels, int Side)[] Teacher, bool ZeroStudent = false)
    {
        public List<Tensor> StudentMaps(int seed) => Student.Select((m, s) => tensor(Map(m.Channels, m.Side, seed + s + m.SeedOffset, ZeroStudent && s == 0), [B, m.Channels, m.Side, m.Side])).ToList();
        public List<Tensor> TeacherMaps() => Teacher.Select((m, s) => tensor(Map(m.Channels, m.Side, 100 + s), [B, m.Channels, m.Side, m.Side])).ToList();
        public override string ToString() => Name;
    }

    static readonly Case[] Cases =
    [
        new("equal sizes, two stages", [(4, 4, 0), (6, 2, 0)], [(8, 4), (12, 2)]),
        new("a larger student map", [(4, 8, 0)], [(5, 4)]),
        new("a larger teacher map", [(4, 2, 0)], [(5, 6)]),
        new("a student map of zeros", [(4, 4, 0), (3, 4, 0)], [(2, 4), (2, 4)], ZeroStudent: true),
    ];

    /// <summary>Each case's reference value and gradients (per student stage) for the student maps of seed 0, from one run of CRD's code.</summary>
    static readonly Lazy<List<(double Value, double[][] Gradients)>> References = new(() =>
    {
        string directory = TestData.TemporaryDirectory(), file = Path.Combine(directory, "cases.json"), output = Path.Combine(directory, "out.json");
        File.WriteAllText(file, JsonSerializer.Serialize(Cases.Select(c => new
        {
            student = c.StudentMaps(0).Select(FeatureLossTrials.Nested).ToList(),
            teacher = c.TeacherMaps().Select(FeatureLossTrials.Nested).ToList(),
        })));
        PyTorch.Run("tests/Distillation.Tests/python/attention_transfer.py", file, output);
        return JsonDocument.Parse(File.ReadAllText(output)).RootElement.EnumerateArray().Select(r => (r.GetProperty("value").GetDouble(),
            r.GetProperty("grads").EnumerateArray().Select(g => g.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray())).ToList();
    });


    /// <summary>The term's value for each trial [K] and the gradients with respect to each trial's student maps.</summary>
    static (double[] Values, double[][][] Gradients) Compute(Case c, int trials)
    {
        using var scope = NewDisposeScope();
        var perTrial = Enumerable.Range(0, trials).Select(c.StudentMaps).ToList();
        var stacked = Enumerable.Range(0, c.Student.Length).Select(s => stack(perTrial.Select(t => t[s]).ToList()).requires_grad_()).ToList();
        var recipe = new LossRecipe(new Dictionary<string, double> { ["at"] = 1 }, 4, 1, RelationFeature.Logits, Stages: ["stage1"]);
        using var loss = new PackedLoss(Enumerable.Repeat(recipe, trials).ToList(), CPU);
        var teacher = new TeacherView(zeros(B, 10, dtype: ScalarType.Float64), null) { Maps = c.TeacherMaps() };
        var (total, terms) = loss.Compute(tensor(new long[] { 0, 1, 2 }), zeros(trials, B, 10, dtype: ScalarType.Float64), null!, [teacher],
            Enumerable.Repeat<Generator?>(null, trials).ToList(), stacked);
        total.sum().backward();
        return (terms["at"].data<double>().ToArray(),
            Enumerable.Range(0, trials).Select(k => stacked.Select(s => s.grad![k].flatten().data<double>().ToArray()).ToArray()).ToArray());
    }

    public static TheoryData<int> CaseIndices => new(Enumerable.Range(0, Cases.Length));

    [Theory]
    [MemberData(nameof(CaseIndices))]
    public void It_gives_crds_value_and_gradient_alone_and_each_trial_of_a_pack_of_4_gives_what_it_gives_alone(int index)
    {
        var c = Cases[index];
        var (expected, expectedGradients) = References.Value[index];
        var (values, gradients) = Compute(c, trials: 1);
        double.IsFinite(values[0]).ShouldBeTrue(c.Name);
        values[0].ShouldBe(expected, tolerance: 1e-12 * Math.Max(1, expected), c.Name);
        expected.ShouldBeGreaterThan(1e-4, "inputs that make the loss 0 would test nothing");
        for (int s = 0; s < expectedGradients.Length; s++)
            for (int e = 0; e < expectedGradients[s].Length; e++)
                gradients[0][s][e].ShouldBe(expectedGradients[s][e], tolerance: 1e-12, $"{c.Name}: stage {s + 1}, element {e}");

        var (packed, packedGradients) = Compute(c, trials: 4);
        for (int k = 0; k < 4; k++)
        {
            var (alone, aloneGradients) = k == 0 ? (values, gradients) : ComputeShifted(c, k);
            packed[k].ShouldBe(alone[0], tolerance: 1e-12 * Math.Max(1, alone[0]), $"{c.Name}: trial {k}");
            for (int s = 0; s < aloneGradients[0].Length; s++)
                packedGradients[k][s].ShouldBe(aloneGradients[0][s], tolerance: 1e-12, $"{c.Name}: trial {k}, stage {s + 1}");
        }
    }

    /// <summary>Trial k of a pack alone: a pack of one whose maps are those of seed k.</summary>
    static (double[] Values, double[][][] Gradients) ComputeShifted(Case c, int seed) =>
        Compute(c with { Student = c.Student.Select(m => (m.Channels, m.Side, m.SeedOffset + seed)).ToArray() }, trials: 1);

    [Fact]
    public void A_pack_of_zoo_models_gives_each_trial_its_own_models_feature_maps_at_its_stages()
    {
        var data = new DatasetInfo("cifar", 3, 32, 32, 100);
        foreach (string name in new[] { "resnet8", "wrn-16-1", "vgg8", "shufflenetv2" })
        {
            var models = Enumerable.Range(0, 3).Select(k =>
            {
                manual_seed(20 + k);
                var model = ModelRegistry.Create(new ModelSpec(name), data);
                model.to(ScalarType.Float64).eval();
                return model;
            }).ToList();
            var stages = models[0].Stages;
            stages.Count.ShouldBeGreaterThanOrEqualTo(3, name);
            using var pack = new PackedClassifier(models, stages);
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var images = randn(new long[] { 2, 3, 32, 32 }, dtype: ScalarType.Float64, generator: new Generator(5));
            pack.Features(images, training: false);
            var maps = pack.Maps;
            maps.Count.ShouldBe(stages.Count);
            for (int k = 0; k < models.Count; k++)
            {
                var own = models[k].FeatureMaps(images, stages).Maps;
                for (int s = 0; s < stages.Count; s++)
                {
                    maps[s][k].shape.ShouldBe(own[s].shape, $"{name} {stages[s]}");
                    (maps[s][k] - own[s]).abs().max().item<double>().ShouldBeLessThan(1e-9, $"{name}, trial {k}, {stages[s]}");
                }
            }
            foreach (var model in models) model.Dispose();
        }
    }

    [Fact]
    public void A_zoo_student_learns_from_a_zoo_teachers_attention_maps_online_and_resumes_exactly()
    {
        string teacherRun = TestData.TemporaryDirectory();
        TrialRunner.Run(TrialConfig.Load(FeatureLossTrials.Trial("resnet14", 1)), teacherRun, cancellation: TestContext.Current.CancellationToken).Status.ShouldBe(TrialStatus.Completed);
        string teacher = Path.Combine(teacherRun, Trials.TrialFolder.BestCheckpointFile);
        var config = TrialConfig.Load(FeatureLossTrials.Trial("resnet8", 3, $"loss: {{ weights: {{ ce: 1, at: 1000 }}, stages: [stage2, stage3] }}\nteacher: {teacher}\nsoft_targets: online"));
        config.Loss.Stages.ShouldBe(["stage2", "stage3"]);
        TrialConfig.Load(FeatureLossTrials.Trial("resnet8", 3, $"loss: {{ weights: {{ ce: 1, at: 1000 }} }}\nteacher: {teacher}\nsoft_targets: online")).Loss.Stages
            .ShouldBe(["stage1", "stage2", "stage3"]); // every stage by default

        var whole = TrialRunner.Run(config, TestData.TemporaryDirectory(), cancellation: TestContext.Current.CancellationToken);
        whole.Status.ShouldBe(TrialStatus.Completed);
        whole.Epochs.ShouldAllBe(e => e.LossTerms["at"] > 0);
        whole.Epochs[^1].LossTerms["at"].ShouldBeLessThan(whole.Epochs[0].LossTerms["at"]); // it learns the teacher's attention

        string directory = TestData.TemporaryDirectory();
        using var stop = new CancellationTokenSource();
        TrialRunner.Run(config, directory, m => { if (m.Epoch == 1) stop.Cancel(); }, cancellation: stop.Token).Status.ShouldBe(TrialStatus.Cancelled);
        var resumed = TrialRunner.Run(config, directory, cancellation: TestContext.Current.CancellationToken);
        resumed.Epochs.Select(FeatureLossTrials.Measured).ShouldBe(whole.Epochs.Select(FeatureLossTrials.Measured));
    }

    [Theory]
    [InlineData("model: mlp-400", "loss: { weights: { ce: 1, at: 1000 } }\nteacher: T\nsoft_targets: online", "loss.weights: at compare feature maps at the models' stages; mlp-400 names none")]
    [InlineData("model: resnet8", "loss: { weights: { ce: 1, at: 1000 }, stages: [stage4] }\nteacher: T\nsoft_targets: online", "loss.stages: resnet8 has no stage4; its stages are stage1, stage2, stage3.")]
    [InlineData("model: resnet8", "loss: { weights: { ce: 1, hinton: 1 }, stages: [stage1] }\nteacher: T", "loss.stages: names the stages that feature losses (hint, at) compare; this loss has none")]
    [InlineData("model: resnet8", "loss: { weights: { ce: 1, at: 1000 } }\nteacher: T", "teacher.checkpoint: at compare the teacher's feature maps, which are computed online every step, not stored; write soft_targets: { mode: online }.")]
    [InlineData("model: resnet8", "loss: { weights: { ce: 1, at: 1000 } }\nteacher: { checkpoints: [T, T] }\nsoft_targets: online", "teacher.checkpoints: at compare one teacher's feature maps; give one teacher.")]
    [InlineData("model: resnet8", "loss: { weights: { ce: 1, at: 1000 } }\nteacher: M\nsoft_targets: online", "teacher.checkpoint: the teacher has no stage1 for loss.stages (it names no stages: the zoo's models do).")]
    public void A_feature_loss_that_cannot_run_is_refused_when_the_trial_is_read(string model, string extra, string message)
    {
        string teacher = TeacherCheckpoint.Value.Zoo, mlp = TeacherCheckpoint.Value.Mlp;
        string path = FeatureLossTrials.Trial(model.Replace("model: ", ""), 2, extra.Replace("T", teacher).Replace("M", mlp));
        Should.Throw<UserInputException>(() => TrialConfig.Load(path)).Message.ShouldContain(message);
    }

    /// <summary>A zoo teacher's and an MLP's checkpoints (untrained, one epoch each is not needed to check stages).</summary>
    static readonly Lazy<(string Zoo, string Mlp)> TeacherCheckpoint = new(() =>
    {
        string Write(string model)
        {
            var data = new DatasetInfo("fashion-mnist", 1, 28, 28, 10);
            using var classifier = ModelRegistry.Create(new ModelSpec(model), data);
            string path = Path.Combine(TestData.TemporaryDirectory(), Trials.TrialFolder.BestCheckpointFile);
            Checkpoint.Save(path, new CheckpointState(new ModelSpec(model), data, "test", 1, 1, 0.5, 0, []), classifier, optimizer: null);
            return path;
        }
        return (Write("resnet14"), Write("mlp-64"));
    });
}
