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
/// FitNets hints against CRD's ConvReg and HintLoss in Debian's PyTorch (python/hint.py), value and gradients (student
/// maps and regressor weights) in float64, with maps of equal size, a larger student's and a larger teacher's (pooled);
/// each trial of a pack of 4 gives what it gives alone. Fused in a pack, each trial's regressor maps as its own does.
/// A zoo student learns the teacher's features through its regressor, resumes exactly (with a warm-up), and its
/// regressor is in its checkpoints but not in its export, its teacher use or its parameter count.
/// </summary>
public sealed class HintTests
{
    const int B = 3;

    static double[] Values(int count, int seed, double scale = 1) =>
        Enumerable.Range(0, count).Select(i => scale * (Math.Sin(0.37 * i + seed) * (1 + seed % 3) + Math.Cos(0.11 * i * seed))).ToArray();

    /// <summary>A case: each stage's student map (channels, side), teacher map (channels, side).</summary>
    public sealed record Case(string Name, ((int Channels, int Side) Student, (int Channels, int Side) Teacher)[] Stages)
    {
        public Tensor StudentMap(int stage, int seed)
        {
            var (c, side) = Stages[stage].Student;
            return tensor(Values(B * c * side * side, seed + stage), [B, c, side, side]);
        }

        public Tensor TeacherMap(int stage)
        {
            var (c, side) = Stages[stage].Teacher;
            return tensor(Values(B * c * side * side, 100 + stage), [B, c, side, side]);
        }

        /// <summary>Trial <paramref name="seed"/>'s regressor weights at a stage: conv weight [Ct, Cs], conv bias, BN weight, BN bias.</summary>
        public (double[] Conv, double[] Bias, double[] Gamma, double[] Beta) Regressor(int stage, int seed)
        {
            var (from, to) = (Stages[stage].Student.Channels, Stages[stage].Teacher.Channels);
            return (Values(to * from, 7 + seed + stage, 0.5), Values(to, 11 + seed, 0.1), Values(to, 13 + seed, 0.2).Select(v => 1 + v).ToArray(), Values(to, 17 + seed, 0.3));
        }

        public override string ToString() => Name;
    }

    static readonly Case[] Cases =
    [
        new("equal sizes, two stages", [((4, 4), (6, 4)), ((6, 2), (3, 2))]),
        new("a larger student map", [((4, 8), (5, 4))]),
        new("a larger teacher map", [((4, 2), (5, 6))]),
    ];

    static readonly Lazy<List<(double Value, double[][] Gradients, double[][] WeightGradients)>> References = new(() =>
    {
        string directory = TestData.TemporaryDirectory(), file = Path.Combine(directory, "cases.json"), output = Path.Combine(directory, "out.json");
        File.WriteAllText(file, JsonSerializer.Serialize(Cases.Select(c => new
        {
            stages = c.Stages.Select((_, s) =>
            {
                var (conv, bias, gamma, beta) = c.Regressor(s, 0);
                return new { student = FeatureLossTrials.Nested(c.StudentMap(s, 0)), teacher = FeatureLossTrials.Nested(c.TeacherMap(s)), conv_weight = conv, conv_bias = bias, bn_weight = gamma, bn_bias = beta };
            }).ToList(),
        })));
        PyTorch.Run("tests/Distillation.Tests/python/hint.py", file, output);
        static double[][] Arrays(JsonElement e) => e.EnumerateArray().Select(g => g.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();
        return JsonDocument.Parse(File.ReadAllText(output)).RootElement.EnumerateArray()
            .Select(r => (r.GetProperty("value").GetDouble(), Arrays(r.GetProperty("grads")), Arrays(r.GetProperty("weight_grads")))).ToList();
    });


    /// <summary>A regressor in float64 with the case's weights for trial <paramref name="seed"/>, training.</summary>
    static HintRegressor RegressorOf(Case c, int seed)
    {
        var regressor = new HintRegressor(c.Stages.Select((s, i) => ($"stage{i + 1}", (long)s.Student.Channels, (long)s.Teacher.Channels)).ToList());
        regressor.to(ScalarType.Float64).train();
        using var _ = no_grad();
        for (int s = 0; s < c.Stages.Length; s++)
        {
            var (conv, bias, gamma, beta) = c.Regressor(s, seed);
            var state = regressor.state_dict();
            string key = $"stage{s + 1}";
            state[$"{key}.conv.weight"].copy_(tensor(conv).view(state[$"{key}.conv.weight"].shape));
            state[$"{key}.conv.bias"].copy_(tensor(bias));
            state[$"{key}.bn.weight"].copy_(tensor(gamma));
            state[$"{key}.bn.bias"].copy_(tensor(beta));
        }
        return regressor;
    }

    /// <summary>The pack's hint term for trials 0..K-1 (each with its own maps and regressor), and each trial's gradients (maps, conv weights).</summary>
    static (double[] Values, double[][][] Gradients, double[][][] WeightGradients) Compute(Case c, int[] seeds)
    {
        using var scope = NewDisposeScope();
        var regressors = seeds.Select(seed => RegressorOf(c, seed)).ToList();
        var maps = seeds.Select(seed => c.Stages.Select((_, s) => c.StudentMap(s, seed).requires_grad_()).ToList()).ToList();
        var hints = Enumerable.Range(0, c.Stages.Length).Select(s => stack(seeds.Select((_, k) => regressors[k].Map(maps[k])[s]).ToList())).ToList();
        var recipe = new LossRecipe(new Dictionary<string, double> { ["hint"] = 1 }, 4, 1, RelationFeature.Logits, Stages: ["stage1"]);
        using var loss = new PackedLoss(Enumerable.Repeat(recipe, seeds.Length).ToList(), CPU);
        var teacher = new TeacherView(zeros(B, 10, dtype: ScalarType.Float64), null) { Maps = c.Stages.Select((_, s) => c.TeacherMap(s)).ToList() };
        var (total, terms) = loss.Compute(tensor(new long[] { 0, 1, 2 }), zeros(seeds.Length, B, 10, dtype: ScalarType.Float64), null!, [teacher],
            Enumerable.Repeat<Generator?>(null, seeds.Length).ToList(), studentHints: hints);
        total.sum().backward();
        var result = (terms["hint"].data<double>().ToArray(),
            maps.Select(trial => trial.Select(m => m.grad!.flatten().data<double>().ToArray()).ToArray()).ToArray(),
            regressors.Select(r => r.Stages.Select(stage => r.Of(stage).Layer.named_parameters().First(p => p.name == "conv.weight").parameter.grad!
                .flatten().data<double>().ToArray()).ToArray()).ToArray());
        foreach (var regressor in regressors) regressor.Dispose();
        return result;
    }

    public static TheoryData<int> CaseIndices => new(Enumerable.Range(0, Cases.Length));

    [Theory]
    [MemberData(nameof(CaseIndices))]
    public void It_gives_crds_value_and_gradients_alone_and_each_trial_of_a_pack_of_4_gives_what_it_gives_alone(int index)
    {
        var c = Cases[index];
        var (expected, expectedGradients, expectedWeightGradients) = References.Value[index];
        var (values, gradients, weightGradients) = Compute(c, [0]);
        values[0].ShouldBe(expected, tolerance: 1e-12 * Math.Max(1, expected), c.Name);
        expected.ShouldBeGreaterThan(1e-3, "inputs that make the loss 0 would test nothing");
        for (int s = 0; s < c.Stages.Length; s++)
        {
            gradients[0][s].Length.ShouldBe(expectedGradients[s].Length);
            for (int e = 0; e < expectedGradients[s].Length; e++)
                gradients[0][s][e].ShouldBe(expectedGradients[s][e], tolerance: 1e-12, $"{c.Name}: stage {s + 1}, map element {e}");
            for (int e = 0; e < expectedWeightGradients[s].Length; e++)
                weightGradients[0][s][e].ShouldBe(expectedWeightGradients[s][e], tolerance: 1e-12, $"{c.Name}: stage {s + 1}, weight {e}");
        }

        var (packed, packedGradients, packedWeightGradients) = Compute(c, [0, 1, 2, 3]);
        for (int k = 0; k < 4; k++)
        {
            var (alone, aloneGradients, aloneWeightGradients) = Compute(c, [k]);
            packed[k].ShouldBe(alone[0], tolerance: 1e-12 * Math.Max(1, alone[0]), $"{c.Name}: trial {k}");
            for (int s = 0; s < c.Stages.Length; s++)
            {
                packedGradients[k][s].ShouldBe(aloneGradients[0][s], tolerance: 1e-12, $"{c.Name}: trial {k}, stage {s + 1}");
                packedWeightGradients[k][s].ShouldBe(aloneWeightGradients[0][s], tolerance: 1e-12, $"{c.Name}: trial {k}, stage {s + 1} weights");
            }
        }
    }

    [Fact]
    public void In_a_pack_each_trials_regressor_maps_its_own_features_as_it_does_alone_and_gets_its_own_gradient()
    {
        var data = new DatasetInfo("cifar", 3, 32, 32, 100);
        string[] stages = ["stage2", "stage3"];
        var models = Enumerable.Range(0, 3).Select(k =>
        {
            manual_seed(30 + k);
            var model = ModelRegistry.Create(new ModelSpec("resnet8"), data);
            model.AttachHint(new HintRegressor([("stage2", 32, 24), ("stage3", 64, 40)]));
            return model.to(ScalarType.Float64);
        }).ToList();
        models[0].ParameterCount.ShouldBe(ModelRegistry.Create(new ModelSpec("resnet8"), data).ParameterCount); // the regressor is not the model's
        using var pack = new PackedClassifier(models, stages);
        pack.Parameters().Select(p => p.Key).ShouldContain("hint.stage3.conv.weight"); // it trains with the pack
        using var scope = NewDisposeScope();
        var images = randn(new long[] { 4, 3, 32, 32 }, dtype: ScalarType.Float64, generator: new Generator(5));
        pack.Features(images, training: true);
        pack.Hints.Count.ShouldBe(2);
        pack.Hints[1].shape.ShouldBe([3, 4, 40, 8, 8]);
        pack.Hints.Select(h => h.sum()).Aggregate((a, b) => a + b).backward();
        var packedGradient = pack.Parameters().First(p => p.Key == "hint.stage2.conv.weight").Weight.grad!;
        for (int k = 0; k < models.Count; k++)
        {
            models[k].train();
            var own = models[k].Hint!.Map(models[k].FeatureMaps(images, stages).Maps);
            for (int s = 0; s < stages.Length; s++)
                (pack.Hints[s][k] - own[s]).abs().max().item<double>().ShouldBeLessThan(1e-9, $"trial {k}, {stages[s]}");
            own.Select(h => h.sum()).Aggregate((a, b) => a + b).backward();
            var ownGradient = models[k].named_parameters().First(p => p.name == "hint.stage2.conv.weight").parameter.grad!;
            (packedGradient[k] - ownGradient).abs().max().item<double>().ShouldBeLessThan(1e-9, $"trial {k}'s regressor gradient");
        }
        foreach (var model in models) model.Dispose();
    }

    [Fact]
    public void A_zoo_student_learns_a_zoo_teachers_features_through_its_regressor_resumes_exactly_and_exports_without_it()
    {
        string teacherRun = TestData.TemporaryDirectory();
        TrialRunner.Run(TrialConfig.Load(FeatureLossTrials.Trial("wrn-16-2", 1)), teacherRun, cancellation: TestContext.Current.CancellationToken).Status.ShouldBe(TrialStatus.Completed);
        string teacher = Path.Combine(teacherRun, TrialFolder.BestCheckpointFile);
        var config = TrialConfig.Load(FeatureLossTrials.Trial("resnet8", 3, $"loss: {{ weights: {{ ce: 1, hint: 100 }}, stages: [stage2], warmup: 2 }}\nteacher: {teacher}\nsoft_targets: online"));

        string wholeRun = TestData.TemporaryDirectory();
        var whole = TrialRunner.Run(config, wholeRun, cancellation: TestContext.Current.CancellationToken);
        whole.Status.ShouldBe(TrialStatus.Completed);
        whole.Epochs.ShouldAllBe(e => e.LossTerms["hint"] > 0);
        whole.Epochs[^1].LossTerms["hint"].ShouldBeLessThan(whole.Epochs[0].LossTerms["hint"]); // the regressed features approach the teacher's
        using var plain = ModelRegistry.Create(new ModelSpec("resnet8"), new DatasetInfo("fashion-mnist", 1, 28, 28, 10));
        whole.Parameters.ShouldBe(plain.ParameterCount);

        string directory = TestData.TemporaryDirectory();
        using var stop = new CancellationTokenSource();
        TrialRunner.Run(config, directory, m => { if (m.Epoch == 1) stop.Cancel(); }, cancellation: stop.Token).Status.ShouldBe(TrialStatus.Cancelled);
        var resumed = TrialRunner.Run(config, directory, cancellation: TestContext.Current.CancellationToken);
        resumed.Epochs.Select(FeatureLossTrials.Measured).ShouldBe(whole.Epochs.Select(FeatureLossTrials.Measured)); // the regressor, its optimizer state and the warm-up resume too
        resumed.TestAccuracy.ShouldBe(whole.TestAccuracy);

        string best = Path.Combine(wholeRun, TrialFolder.BestCheckpointFile);
        using var student = TeacherLoader.Load(best, new DatasetInfo("fashion-mnist", 1, 28, 28, 10), CPU);
        student.state_dict().Keys.ShouldNotContain(k => HintRegressor.Owns(k));
        string export = TestData.TemporaryDirectory();
        ModelExport.Export(best, export);
        File.ReadAllText(Path.Combine(export, ModelExport.ModelFile)).ShouldNotContain("hint");
        var weights = File.ReadAllBytes(Path.Combine(export, ModelExport.WeightsFile));
        System.Text.Encoding.UTF8.GetString(weights, 8, (int)BitConverter.ToInt64(weights, 0)).ShouldNotContain("hint.");
    }

    [Fact]
    public void A_hint_with_a_teacher_without_the_stage_is_refused_when_the_trial_is_read()
    {
        string mlpRun = TestData.TemporaryDirectory();
        var data = new DatasetInfo("fashion-mnist", 1, 28, 28, 10);
        using var mlp = ModelRegistry.Create(new ModelSpec("mlp-64"), data);
        string path = Path.Combine(mlpRun, TrialFolder.BestCheckpointFile);
        Checkpoint.Save(path, new CheckpointState(new ModelSpec("mlp-64"), data, "test", 1, 1, 0.5, 0, []), mlp, optimizer: null);
        Should.Throw<UserInputException>(() => TrialConfig.Load(FeatureLossTrials.Trial("resnet8", 2, $"loss: {{ weights: {{ ce: 1, hint: 100 }}, stages: [stage2] }}\nteacher: {path}\nsoft_targets: online")))
            .Message.ShouldContain("the teacher has no stage2 for loss.stages (it names no stages: the zoo's models do).");
    }
}
