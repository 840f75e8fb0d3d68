using Orchestrator.Distillation.Losses;
using Orchestrator.Distillation.SoftTargets;
using Shouldly;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Tests;

public class LossBehaviourTests
{
    [Theory]
    [InlineData(1.0)]
    [InlineData(20.0)]
    public void Hinton_loss_is_zero_for_identical_logits(double temperature)
    {
        var logits = randn(8, 10, generator: new Generator(3));
        DistillationLosses.Hinton(logits, logits.clone(), temperature).item<float>().ShouldBe(0f, tolerance: 1e-6);
    }

    [Fact]
    public void Losses_stay_finite_for_very_large_logits()
    {
        var student = randn(8, 10, generator: new Generator(1)) * 1e4f;
        var teacher = randn(8, 10, generator: new Generator(2)) * 1e4f;
        double.IsFinite(DistillationLosses.Hinton(student, teacher, 1).item<float>()).ShouldBeTrue();
        double.IsFinite(DistillationLosses.SoftCrossEntropy(student, teacher, 20).item<float>()).ShouldBeTrue();
        double.IsFinite(DistillationLosses.RkdDistance(student, teacher).item<float>()).ShouldBeTrue();
        double.IsFinite(DistillationLosses.RkdAngle(student, teacher).item<float>()).ShouldBeTrue();
    }

    [Fact]
    public void Sampled_negatives_always_have_another_label()
    {
        var labels = tensor(new long[] { 0, 0, 1, 2, 2, 2, 1, 0 });
        for (int round = 0; round < 20; round++)
        {
            var negatives = DistillationLosses.SampleNegatives(labels).data<long>().ToArray();
            for (int a = 0; a < negatives.Length; a++)
                labels[negatives[a]].item<long>().ShouldNotBe(labels[a].item<long>());
        }
    }

    [Fact]
    public void Triplet_ignores_anchors_without_a_negative_class()
    {
        var labels = tensor(new long[] { 4, 4, 4 });
        var negatives = DistillationLosses.SampleNegatives(labels);
        negatives.data<long>().ToArray().ShouldAllBe(n => n == -1);
        DistillationLosses.Triplet(randn(3, 10), randn(3, 10), negatives, 1).item<float>().ShouldBe(0f);
    }

    [Fact]
    public void Alpha_weighs_distillation_terms_and_one_minus_alpha_weighs_ce()
    {
        var weights = LossRecipe.WeightsFromAlpha(["ce", "hinton", "triplet"], 0.7);
        weights["ce"].ShouldBe(0.3, tolerance: 1e-12);
        weights["hinton"].ShouldBe(0.7);
        weights["triplet"].ShouldBe(0.7);
    }

    [Fact]
    public void Weighted_total_is_the_sum_of_weighted_terms_and_rkd_da_is_distance_plus_twice_angle()
    {
        var recipe = new LossRecipe(new Dictionary<string, double> { ["ce"] = 0.25, ["hinton"] = 0.5, ["rkd-da"] = 2 }, 4, 1, RelationFeature.Logits);
        var labels = tensor(new long[] { 0, 1, 2, 1, 0, 3 });
        var (student, teacher) = (randn(6, 10, generator: new Generator(5)), randn(6, 10, generator: new Generator(6)));
        using var loss = new PackedLoss([recipe], CPU);
        var (total, terms) = loss.Compute(labels, student.unsqueeze(0), student.unsqueeze(0), [new TeacherView(teacher, teacher)], [null]);
        double expected = 0.25 * DistillationLosses.CrossEntropy(student, labels).item<float>()
                          + 0.5 * DistillationLosses.Hinton(student, teacher, 4).item<float>()
                          + 2 * (DistillationLosses.RkdDistance(student, teacher) + 2 * DistillationLosses.RkdAngle(student, teacher)).item<float>();
        total.shape.ShouldBe([1L]);
        total[0].item<float>().ShouldBe((float)expected, tolerance: 1e-5);
        terms.Keys.ShouldBe(["ce", "hinton", "rkd-da"]);
    }

    [Theory]
    [InlineData(new[] { "ce", "hinton" }, null, "alpha is required")]
    [InlineData(new[] { "ce", "hinton" }, 1.5, "outside [0, 1]")]
    [InlineData(new[] { "ce", "hintn" }, 0.5, "did you mean 'hinton'")]
    [InlineData(new string[0], 0.5, "terms is empty")]
    public void Bad_loss_combinations_are_rejected_with_a_fix(string[] terms, double? alpha, string message) =>
        Should.Throw<UserInputException>(() => LossRecipe.WeightsFromAlpha(terms, alpha)).Message.ShouldContain(message);
}
