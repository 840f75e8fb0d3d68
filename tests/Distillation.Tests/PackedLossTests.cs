using Orchestrator.Distillation.Losses;
using Orchestrator.Distillation.SoftTargets;
using Shouldly;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Tests;

/// <summary>Every loss over a pack of K trials gives each trial the value and the gradient it has alone.</summary>
public class PackedLossTests
{
    const int Trials = 3, Batch = 12, Classes = 10, Width = 6;

    /// <summary>Three recipes with the same terms and features but their own weights, temperatures and margins.</summary>
    static List<LossRecipe> Recipes(string term, RelationFeature feature) =>
        [.. new[] { (0.3, 2.0, 0.5), (0.7, 4.0, 1.0), (0.9, 8.0, 2.0) }.Select(p =>
            new LossRecipe(term == "ce" ? new Dictionary<string, double> { ["ce"] = 1 } : LossRecipe.WeightsFromAlpha(["ce", term], p.Item1), p.Item2, p.Item3, feature))];

    [Theory]
    [InlineData("ce", RelationFeature.Logits)]
    [InlineData("hinton", RelationFeature.Logits)]
    [InlineData("soft-ce", RelationFeature.Logits)]
    [InlineData("logit-mse", RelationFeature.Logits)]
    [InlineData("triplet", RelationFeature.Logits)]
    [InlineData("triplet", RelationFeature.Embedding)]
    [InlineData("rkd-d", RelationFeature.Embedding)]
    [InlineData("rkd-a", RelationFeature.Logits)]
    [InlineData("rkd-da", RelationFeature.Embedding)]
    public void Each_trial_gets_its_own_loss_and_gradient(string term, RelationFeature feature)
    {
        var recipes = Recipes(term, feature);
        using var labels = tensor(new long[] { 0, 1, 2, 1, 0, 3, 3, 2, 1, 0, 4, 4 });
        using var logits = randn(new long[] { Trials, Batch, Classes }, generator: new Generator(1)).requires_grad_(true);
        using var embedding = randn(new long[] { Trials, Batch, Width }, generator: new Generator(2)).requires_grad_(true);
        var teachers = new[] { new TeacherView(randn(Batch, Classes, generator: new Generator(3)), randn(Batch, Width, generator: new Generator(4))) };

        using var packed = new PackedLoss(recipes, CPU);
        var (total, terms) = packed.Compute(labels, logits, embedding, teachers, Generators());
        total.sum().backward();

        for (int k = 0; k < Trials; k++)
        {
            using var aloneLogits = logits[k].detach().clone().unsqueeze(0).requires_grad_(true);
            using var aloneEmbedding = embedding[k].detach().clone().unsqueeze(0).requires_grad_(true);
            using var alone = new PackedLoss([recipes[k]], CPU);
            var (aloneTotal, aloneTerms) = alone.Compute(labels, aloneLogits, aloneEmbedding, teachers, [Generators()[k]]);
            aloneTotal.sum().backward();
            total[k].item<float>().ShouldBe(aloneTotal[0].item<float>(), tolerance: 1e-5, $"trial {k}'s total");
            foreach (var (name, value) in terms) value[k].item<float>().ShouldBe(aloneTerms[name][0].item<float>(), tolerance: 1e-5, $"trial {k}'s {name}");
            logits.grad![k].allclose(aloneLogits.grad![0], rtol: 1e-4, atol: 1e-6).ShouldBeTrue($"trial {k}'s logit gradient");
            if (feature == RelationFeature.Embedding)
                embedding.grad![k].allclose(aloneEmbedding.grad![0], rtol: 1e-4, atol: 1e-6).ShouldBeTrue($"trial {k}'s embedding gradient");
        }
        // A trial's loss alone is the single-model function's value: the pack of one adds nothing.
        if (term == "hinton")
            DistillationLosses.Hinton(logits[1], teachers[0].Logits, 4).item<float>().ShouldBe(terms["hinton"][1].item<float>(), tolerance: 1e-5);
    }

    /// <summary>Triplet negatives come from each trial's generator: equal seeds, equal draws, alone or packed.</summary>
    static Generator?[] Generators() => [new Generator(7), new Generator(8), new Generator(9)];

    [Fact]
    public void Trials_with_other_terms_or_features_cannot_share_a_pack()
    {
        var hinton = Recipes("hinton", RelationFeature.Logits)[0];
        Should.Throw<ArgumentException>(() => new PackedLoss([hinton, Recipes("soft-ce", RelationFeature.Logits)[0]], CPU));
        Should.Throw<ArgumentException>(() => new PackedLoss([Recipes("rkd-d", RelationFeature.Logits)[0], Recipes("rkd-d", RelationFeature.Embedding)[0]], CPU));
    }

    [Fact]
    public void Keep_drops_trials_and_their_settings()
    {
        var recipes = Recipes("hinton", RelationFeature.Logits);
        using var labels = tensor(new long[] { 0, 1, 2, 1 });
        using var logits = randn(Trials, 4, Classes);
        var teachers = new[] { new TeacherView(randn(4, Classes), null) };
        using var packed = new PackedLoss(recipes, CPU);
        var (all, _) = packed.Compute(labels, logits, logits, teachers, Generators());
        packed.Keep([2, 0]);
        var (kept, _) = packed.Compute(labels, stack([logits[2], logits[0]]), logits, teachers, [null, null]);
        kept[0].item<float>().ShouldBe(all[2].item<float>(), tolerance: 1e-6);
        kept[1].item<float>().ShouldBe(all[0].item<float>(), tolerance: 1e-6);
    }
}
