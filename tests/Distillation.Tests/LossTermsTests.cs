using Orchestrator.Distillation.Losses;
using Shouldly;

namespace Orchestrator.Distillation.Tests;

/// <summary>The loss-term registry: every term file is found, listed in its order, and what it reads decides a recipe's identity.</summary>
public sealed class LossTermsTests
{
    [Fact]
    public void Every_term_file_is_found_and_listed_in_order()
    {
        string[] builtIn = ["ce", "hinton", "soft-ce", "logit-mse", "triplet", "rkd-d", "rkd-a", "rkd-da"];
        LossTerms.Names.Where(builtIn.Contains).ShouldBe(builtIn); // a new term's file adds to these; none is listed by hand
        LossTerms.All.Where(t => !t.NeedsTeacher).Select(t => t.Name).ShouldBe(["ce"]);
        LossTerms.All.ShouldAllBe(t => t.Description.Length > 0);
    }

    [Fact]
    public void A_setting_no_term_reads_is_left_out_of_the_recipe_identity()
    {
        var recipe = new LossRecipe(new Dictionary<string, double> { ["ce"] = 0.5, ["logit-mse"] = 0.5 }, 4, 2, RelationFeature.Embedding);
        recipe.WithoutUnusedSettings().ShouldBe(recipe with { Temperature = 1, TripletMargin = 1, Feature = RelationFeature.Logits });
        var relational = recipe with { Weights = new Dictionary<string, double> { ["rkd-d"] = 1 } };
        relational.NeedsTeacherEmbedding.ShouldBeTrue();
        relational.WithoutUnusedSettings().Feature.ShouldBe(RelationFeature.Embedding);
    }

    [Fact]
    public void An_unknown_term_names_the_nearest_one()
    {
        Should.Throw<UserInputException>(() => LossRecipe.CheckTermName("hintn")).Message
            .ShouldBe($"unknown loss 'hintn' (did you mean 'hinton'?); known losses: {string.Join(", ", LossTerms.Names)}.");
    }
}
