using System.Text.Json;
using Orchestrator.Distillation.Data;
using Orchestrator.Distillation.Losses;
using Orchestrator.Distillation.SoftTargets;
using Orchestrator.Tests;
using Shouldly;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Tests;

/// <summary>dataset.labels: which samples keep their labels, and the losses that see only those.</summary>
public class LabelBudgetTests
{
    /// <summary>1,000 samples of 10 classes of unequal sizes (class c has 10 + 18c samples), interleaved.</summary>
    static int[] UnequalClasses() =>
        Enumerable.Range(0, 10).SelectMany(c => Enumerable.Repeat(c, 10 + 18 * c)).OrderBy(c => (c * 7919) % 1000).ToArray();

    [Fact]
    public void A_fraction_keeps_that_share_of_every_class_chosen_by_the_seed()
    {
        var labels = UnequalClasses();
        labels.Length.ShouldBe(910);
        var kept = LabelBudget.Labelled(labels, 10, 0.1, seed: 3);
        kept.Length.ShouldBe(91);
        kept.ShouldBe(kept.Order().ToArray());
        foreach (int c in Enumerable.Range(0, 10))
            kept.Count(i => labels[i] == c).ShouldBeInRange((int)Math.Floor(0.1 * (10 + 18 * c)), (int)Math.Ceiling(0.1 * (10 + 18 * c)));
        LabelBudget.Labelled(labels, 10, 0.1, seed: 3).ShouldBe(kept);
        LabelBudget.Labelled(labels, 10, 0.1, seed: 4).ShouldNotBe(kept);
    }

    [Fact]
    public void A_count_keeps_that_many_and_every_class_keeps_at_least_one()
    {
        var labels = UnequalClasses();
        LabelBudget.Labelled(labels, 10, 25, seed: 0).Length.ShouldBe(25);
        var tiny = LabelBudget.Labelled(labels, 10, 0.001, seed: 0); // 0.9 samples: one per class instead
        tiny.Length.ShouldBe(10);
        tiny.Select(i => labels[i]).Order().ShouldBe(Enumerable.Range(0, 10));
        LabelBudget.Labelled(labels, 10, 12, seed: 0).Select(i => labels[i]).Distinct().Count().ShouldBe(10);
    }

    [Theory]
    [InlineData(0, "in (0, 1]")]
    [InlineData(-0.5, "in (0, 1]")]
    [InlineData(2.5, "whole number")]
    [InlineData(5000, "more labelled samples than the training split's 910")]
    public void A_bad_budget_says_how_to_write_one(double budget, string message) =>
        Should.Throw<UserInputException>(() => LabelBudget.Labelled(UnequalClasses(), 10, budget, 0)).Message.ShouldContain(message);

    [Fact]
    public void Under_a_budget_the_training_split_hides_the_other_labels_and_nothing_else_changes()
    {
        string root = TestData.FashionMnistSubset(1000, 300);
        using var all = DistillationData.Load(new DataOptions("fashion-mnist", root, Validation: 200), CPU);
        using var some = DistillationData.Load(new DataOptions("fashion-mnist", root, Validation: 200, Labels: 0.05), CPU);
        some.LabelledCount.ShouldBe(40);
        all.Labelled.ShouldBeNull();
        var labels = some.Train.Labels.data<long>().ToArray();
        var truth = all.Train.Labels.data<long>().ToArray();
        var kept = some.Labelled!.data<long>().ToArray();
        labels.Count(l => l == LabelBudget.Hidden).ShouldBe(800 - 40);
        foreach (long i in kept) labels[i].ShouldBe(truth[i]);
        some.Fingerprint.ShouldBe(all.Fingerprint); // the same samples in the same order: teacher outputs are shared
        some.Train.Images.eq(all.Train.Images).all().item<bool>().ShouldBeTrue();
        some.Validation.Labels.eq(all.Validation.Labels).all().item<bool>().ShouldBeTrue();
        some.Test.Labels.eq(all.Test.Labels).all().item<bool>().ShouldBeTrue();
    }

    [Fact]
    public void Settings_without_a_budget_keep_the_identity_they_had_before_budgets()
    {
        JsonSerializer.Serialize(new DataOptions("fashion-mnist")).ShouldNotContain("Labels");
        ContentHash.Of(new DataOptions("fashion-mnist", Labels: 0.05)).ShouldNotBe(ContentHash.Of(new DataOptions("fashion-mnist")));
    }

    [Fact]
    public void Cross_entropy_on_labelled_is_the_mean_over_the_labelled_samples_and_ignores_the_rest()
    {
        using var logits = randn(new long[] { 2, 6, 4 }, generator: new Generator(1)).requires_grad_(true);
        using var labels = tensor(new long[] { 2, -1, 0, -1, -1, 3 });
        var labelled = tensor(new long[] { 0, 2, 5 });
        var expected = DistillationLosses.CrossEntropy(logits.index_select(1, labelled), labels.index_select(0, labelled));
        var value = DistillationLosses.CrossEntropyOnLabelled(logits, labels);
        value.allclose(expected, rtol: 1e-6).ShouldBeTrue();
        value.sum().backward();
        logits.grad!.select(1, 1).abs().sum().item<float>().ShouldBe(0f);
        logits.grad!.select(1, 0).abs().sum().item<float>().ShouldBeGreaterThan(0f);
        DistillationLosses.CrossEntropyOnLabelled(logits, full(6, -1L)).abs().sum().item<float>().ShouldBe(0f); // no labels in the batch: no loss, no NaN
    }

    [Fact]
    public void Triplet_negatives_of_unlabelled_anchors_come_from_the_teachers_predicted_class()
    {
        var recipe = new LossRecipe(LossRecipe.WeightsFromAlpha(["ce", "triplet"], 0.5), 4, 1, RelationFeature.Logits);
        using var logits = randn(new long[] { 1, 8, 5 }, generator: new Generator(1));
        var teacher = new TeacherView(randn(8, 5, generator: new Generator(2)), null);
        using var predicted = teacher.Logits.argmax(-1);
        using var partial = new PackedLoss([recipe], CPU, partialLabels: true);
        using var full = new PackedLoss([recipe], CPU);
        using var hidden = full_like(predicted, LabelBudget.Hidden);
        var unlabelled = partial.Compute(hidden, logits, logits, [teacher], [new Generator(5)]).Terms["triplet"];
        var byPrediction = full.Compute(predicted, logits, logits, [teacher], [new Generator(5)]).Terms["triplet"];
        unlabelled.item<float>().ShouldBe(byPrediction.item<float>());
    }
}
