using System.Text.Json;
using Orchestrator.Distillation.Losses;
using Orchestrator.Distillation.SoftTargets;
using Orchestrator.Tests;
using Shouldly;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Tests;

/// <summary>
/// DKD, DIST and logit standardisation against their authors' code run in Debian's PyTorch (python/modern_losses.py),
/// values and gradients in float64: at temperatures 1, 4 and 20, on plain logits, on logits with ties (a constant row
/// included), and on a near-certain teacher whose other classes' probabilities are near zero; alone, and as packs of 4
/// trials with their own settings, each of which equals its trial alone.
/// </summary>
public sealed class ModernLossTests
{
    const int B = 6, C = 5;
    static readonly long[] Labels = [0, 1, 2, 1, 4, 3];

    /// <summary>The three kinds of input, [B, C] each: (student, teacher).</summary>
    static readonly Dictionary<string, (double[,] Student, double[,] Teacher)> Inputs = new()
    {
        ["plain"] = (Build((i, j) => Math.Sin(3 * i + j) * 2), Build((i, j) => Math.Cos(2 * i + 1.5 * j) * 3)),
        ["ties"] = (Build((i, j) => (i + j) % 3), Build((i, j) => i == 0 ? 1.5 : j % 2 * 2)),
        ["certain"] = (Build((i, j) => j == Labels[i] ? 25 : Math.Cos(i * j)), Build((i, j) => j == Labels[i] ? 30 : Math.Sin(i + j))),
    };

    static double[,] Build(Func<int, int, double> value)
    {
        var values = new double[B, C];
        for (int i = 0; i < B; i++)
            for (int j = 0; j < C; j++)
                values[i, j] = value(i, j);
        return values;
    }

    /// <summary>One loss setting: its term, temperature, the term's two options (DKD: alpha, beta; DIST: beta, gamma) and standardisation.</summary>
    public sealed record Setting(string Term, double T, double A, double B, bool Standardize)
    {
        public LossRecipe Recipe => new(new Dictionary<string, double> { [Term] = 1 }, T, 1, RelationFeature.Logits, Standardize, 0,
            LossTerms.Get(Term).Options.Keys.Zip([A, this.B]).ToDictionary(o => $"{Term}.{o.First}", o => o.Second));

        public override string ToString() => $"{Term} at T = {T}, options {A} and {B}{(Standardize ? ", standardised" : "")}";
    }

    static IEnumerable<Setting> Settings() =>
        from t in new[] { 1.0, 4.0, 20.0 }
        from setting in new[]
        {
            new Setting("hinton", t, 0, 0, true), new Setting("soft-ce", t, 0, 0, true),
            new Setting("dkd", t, 1, 8, false), new Setting("dkd", t, 0.5, 2, false), new Setting("dkd", t, 1, 8, true),
            new Setting("dist", t, 1, 1, false), new Setting("dist", t, 2, 0.5, false), new Setting("dist", t, 1, 1, true),
        }
        select setting;

    /// <summary>Every case's reference value and gradient, from one run of the authors' formulas.</summary>
    static readonly Lazy<Dictionary<(string Input, Setting Setting), (double Value, double[] Gradient)>> References = new(() =>
    {
        var cases = (from input in Inputs.Keys from setting in Settings() select (input, setting)).ToList();
        string directory = TestData.TemporaryDirectory(), file = Path.Combine(directory, "cases.json"), output = Path.Combine(directory, "out.json");
        File.WriteAllText(file, JsonSerializer.Serialize(cases.Select(c => new
        {
            term = c.setting.Term, T = c.setting.T, a = c.setting.A, b = c.setting.B, standardize = c.setting.Standardize,
            student = Rows(Inputs[c.input].Student), teacher = Rows(Inputs[c.input].Teacher), labels = Labels,
        })));
        PyTorch.Run("tests/Distillation.Tests/python/modern_losses.py", file, output);
        var results = JsonDocument.Parse(File.ReadAllText(output)).RootElement.EnumerateArray()
            .Select(r => (r.GetProperty("value").GetDouble(), r.GetProperty("grad").EnumerateArray().Select(g => g.GetDouble()).ToArray())).ToList();
        return cases.Zip(results).ToDictionary(p => p.First, p => p.Second);
    });

    static double[][] Rows(double[,] values) => Enumerable.Range(0, B).Select(i => Enumerable.Range(0, C).Select(j => values[i, j]).ToArray()).ToArray();

    static Tensor Tensor(double[,] values) => tensor(values.Cast<double>().ToArray(), [B, C], ScalarType.Float64);

    public static TheoryData<string> InputNames => new(Inputs.Keys);

    [Theory]
    [MemberData(nameof(InputNames))]
    public void Each_setting_alone_gives_the_authors_value_and_gradient(string input)
    {
        foreach (var setting in Settings())
        {
            var (value, gradient) = Compute([setting], [Inputs[input].Student], Inputs[input].Teacher);
            ShouldMatch(value[0], gradient[0], References.Value[(input, setting)], $"{input}, {setting}");
        }
    }

    [Theory]
    [MemberData(nameof(InputNames))]
    public void A_pack_of_4_with_its_own_settings_gives_each_trial_what_it_gives_alone(string input)
    {
        foreach (var term in new[] { "dkd", "dist" })
            foreach (bool standardize in new[] { false, true })
            {
                // Four trials of one term, each with its own temperature and options, and its own logits; the first is a reference case.
                Setting[] settings =
                [
                    new(term, 4, 1, term == "dkd" ? 8 : 1, standardize), new(term, 1, 0.5, 2, standardize), new(term, 20, 1, 1, standardize), new(term, 4, 2, 0.5, standardize),
                ];
                var inputs = settings.Select((_, k) => k == 0 ? Inputs[input].Student : Build((i, j) => Inputs[input].Student[i, j] + Math.Sin(k * (i + 2 * j)))).ToList();
                var (values, gradients) = Compute(settings, inputs, Inputs[input].Teacher);
                for (int k = 0; k < settings.Length; k++)
                {
                    var (alone, aloneGradient) = Compute([settings[k]], [inputs[k]], Inputs[input].Teacher);
                    values[k].ShouldBe(alone[0], tolerance: 1e-12 * Math.Max(1, Math.Abs(alone[0])), $"{input}, trial {k}: {settings[k]}");
                    for (int e = 0; e < gradients[k].Length; e++)
                        gradients[k][e].ShouldBe(aloneGradient[0][e], tolerance: 1e-12, $"{input}, trial {k} gradient {e}");
                }
                if (input == "plain") ShouldMatch(values[0], gradients[0], References.Value[(input, settings[0])], $"{input}, trial 0 of the pack");
            }
    }

    /// <summary>The loss of each trial [K] and the gradient of their sum with respect to each trial's logits.</summary>
    static (double[] Values, double[][] Gradients) Compute(IReadOnlyList<Setting> settings, IReadOnlyList<double[,]> students, double[,] teacher)
    {
        using var scope = NewDisposeScope();
        var logits = stack(students.Select(Tensor).ToList()).requires_grad_();
        using var loss = new PackedLoss(settings.Select(s => s.Recipe).ToList(), CPU);
        var (total, terms) = loss.Compute(tensor(Labels), logits, null!, [new TeacherView(Tensor(teacher), null)], settings.Select(_ => (Generator?)null).ToList());
        total.sum().backward();
        var values = terms[settings[0].Term].data<double>().ToArray();
        var gradients = Enumerable.Range(0, settings.Count).Select(k => logits.grad![k].flatten().data<double>().ToArray()).ToArray();
        return (values, gradients);
    }

    static void ShouldMatch(double value, double[] gradient, (double Value, double[] Gradient) expected, string what)
    {
        double.IsFinite(value).ShouldBeTrue(what);
        value.ShouldBe(expected.Value, tolerance: 1e-9 * Math.Max(1, Math.Abs(expected.Value)), what);
        double scale = Math.Max(1, expected.Gradient.Max(Math.Abs));
        gradient.Length.ShouldBe(expected.Gradient.Length, what);
        for (int e = 0; e < gradient.Length; e++) gradient[e].ShouldBe(expected.Gradient[e], tolerance: 1e-9 * scale, $"{what}: gradient element {e}");
    }

    [Fact]
    public void Warm_up_ramps_each_trials_distillation_weights_from_its_first_epoch_and_leaves_cross_entropy_alone()
    {
        using var scope = NewDisposeScope();
        var weights = new Dictionary<string, double> { ["ce"] = 0.1, ["hinton"] = 0.9 };
        LossRecipe[] recipes = [new(weights, 4, 1, RelationFeature.Logits, Warmup: 4), new(weights, 4, 1, RelationFeature.Logits)];
        using var loss = new PackedLoss(recipes, CPU);
        var logits = stack([Tensor(Inputs["plain"].Student), Tensor(Inputs["plain"].Student)]);
        var teacher = new TeacherView(Tensor(Inputs["plain"].Teacher), null);
        foreach (var (epoch, factor) in new[] { (0, 0.25), (1, 0.5), (3, 1.0), (9, 1.0) })
        {
            loss.SetEpoch(epoch);
            var (total, terms) = loss.Compute(tensor(Labels), logits, null!, [teacher], [null, null]);
            double ce = terms["ce"][0].item<double>(), hinton = terms["hinton"][0].item<double>();
            total[0].item<double>().ShouldBe(0.1 * ce + 0.9 * factor * hinton, tolerance: 1e-6, $"epoch {epoch + 1} of a 4-epoch warm-up");
            total[1].item<double>().ShouldBe(0.1 * ce + 0.9 * hinton, tolerance: 1e-6, "no warm-up");
            recipes[0].WarmupFactor(epoch).ShouldBe(factor);
        }
    }
}
