using Orchestrator.Distillation.Losses;
using Orchestrator.Distillation.SoftTargets;
using Shouldly;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Tests;

/// <summary>
/// Each loss-term file computes, through LossTerm and LossBatch, what its formula in DistillationLosses gives (those
/// are checked against PyTorch in LossReferenceTests), for a pack of K = 2 trials with their own temperatures.
/// </summary>
public sealed class LossTermFilesTests
{
    const int K = 2, B = 6, C = 4;

    static (LossBatch Batch, TeacherView Teacher) Inputs(bool partialLabels = false, bool standardize = false)
    {
        manual_seed(7);
        var logits = randn(K, B, C);
        var labels = tensor(new long[] { 0, 1, 2, 3, 0, partialLabels ? -1 : 1 });
        var options = new Dictionary<string, Tensor>
        {
            ["dkd.alpha"] = tensor(new float[] { 1, 0.5f }), ["dkd.beta"] = tensor(new float[] { 8, 2 }),
            ["dist.beta"] = tensor(new float[] { 1, 2 }), ["dist.gamma"] = tensor(new float[] { 1, 0.5f }),
        };
        var batch = new LossBatch(labels, logits, randn(K, B, 5), tensor(new float[] { 2, 4 }), tensor(new float[] { 1, 0.5f }),
            RelationFeature.Logits, partialLabels, [null, null], standardize, options);
        return (batch, new TeacherView(randn(B, C), null));
    }

    static float[] Values(Tensor t) => t.data<float>().ToArray();

    static void Same(string term, Func<LossBatch, TeacherView, Tensor> formula, bool partialLabels = false, bool standardize = false)
    {
        using var scope = NewDisposeScope();
        var (batch, teacher) = Inputs(partialLabels, standardize);
        var computed = LossTerms.Get(term).Compute(batch, teacher);
        computed.shape.ShouldBe([K]); // one value per trial of the pack
        Values(computed).ShouldBe(Values(formula(batch, teacher)), 1e-6f);
    }

    [Fact]
    public void CrossEntropyTerm_is_cross_entropy_on_the_labels_and_on_the_labelled_ones_only_under_a_budget()
    {
        Same("ce", (b, _) => DistillationLosses.CrossEntropy(b.Logits, b.Labels));
        Same("ce", (b, _) => DistillationLosses.CrossEntropyOnLabelled(b.Logits, b.Labels), partialLabels: true);
        LossTerms.Get("ce").NeedsTeacher.ShouldBeFalse();
    }

    [Fact]
    public void HintonTerm_is_hinton_kd_at_each_trials_temperature() =>
        Same("hinton", (b, t) => DistillationLosses.Hinton(b.Logits, t.Logits, b.Temperature));

    [Fact]
    public void SoftCrossEntropyTerm_is_soft_target_cross_entropy_at_each_trials_temperature() =>
        Same("soft-ce", (b, t) => DistillationLosses.SoftCrossEntropy(b.Logits, t.Logits, b.Temperature));

    [Fact]
    public void HintonTerm_and_SoftCrossEntropyTerm_standardise_both_sides_logits_first_when_asked()
    {
        static Tensor Z(Tensor logits) => DistillationLosses.Standardize(logits);
        Same("hinton", (b, t) => DistillationLosses.Hinton(Z(b.Logits), Z(t.Logits), b.Temperature), standardize: true);
        Same("soft-ce", (b, t) => DistillationLosses.SoftCrossEntropy(Z(b.Logits), Z(t.Logits), b.Temperature), standardize: true);
    }

    [Fact]
    public void DkdTerm_is_dkd_with_each_trials_alpha_beta_and_temperature_and_the_teachers_prediction_for_an_unlabelled_sample()
    {
        Same("dkd", (b, t) => DistillationLosses.Dkd(b.Logits, t.Logits, b.Labels, b.Temperature, b.Options["dkd.alpha"], b.Options["dkd.beta"]));
        Same("dkd", (b, t) => DistillationLosses.Dkd(b.Logits, t.Logits, b.ClassesOf(t.Logits), b.Temperature, b.Options["dkd.alpha"], b.Options["dkd.beta"]), partialLabels: true);
        Same("dkd", (b, t) => DistillationLosses.Dkd(DistillationLosses.Standardize(b.Logits), DistillationLosses.Standardize(t.Logits), b.Labels, b.Temperature,
            b.Options["dkd.alpha"], b.Options["dkd.beta"]), standardize: true);
    }

    [Fact]
    public void DistTerm_is_dist_with_each_trials_beta_gamma_and_temperature() =>
        Same("dist", (b, t) => DistillationLosses.Dist(b.Logits, t.Logits, b.Temperature, b.Options["dist.beta"], b.Options["dist.gamma"]));

    [Fact]
    public void LogitMseTerm_is_the_mean_squared_logit_difference() =>
        Same("logit-mse", (b, t) => DistillationLosses.LogitMse(b.Logits, t.Logits));

    [Fact]
    public void RkdDistanceTerm_RkdAngleTerm_and_RkdDistanceAngleTerm_are_park_et_als_terms_and_their_sum()
    {
        Same("rkd-d", (b, t) => DistillationLosses.RkdDistance(b.Logits, t.Logits));
        Same("rkd-a", (b, t) => DistillationLosses.RkdAngle(b.Logits, t.Logits));
        Same("rkd-da", (b, t) => DistillationLosses.RkdDistance(b.Logits, t.Logits) + 2 * DistillationLosses.RkdAngle(b.Logits, t.Logits));
    }

    [Fact]
    public void TripletTerm_draws_each_trials_negatives_with_its_own_generator()
    {
        using var scope = NewDisposeScope();
        var (batch, teacher) = Inputs();
        using var first = new Generator(seed: 11);
        using var second = new Generator(seed: 11);
        var computed = LossTerms.Get("triplet").Compute(batch with { Generators = [first, null] }, teacher);
        var negatives = stack([DistillationLosses.SampleNegatives(batch.Labels, second), DistillationLosses.SampleNegatives(batch.Labels, null)]);
        Values(computed)[0].ShouldBe(Values(DistillationLosses.Triplet(batch.Logits, teacher.Logits, negatives, batch.Margin))[0], 1e-6f);
    }

    [Fact]
    public void A_LossBatch_compares_embeddings_when_asked_and_names_the_term_when_the_teacher_has_none()
    {
        using var scope = NewDisposeScope();
        var (batch, teacher) = Inputs();
        var embedded = batch with { Feature = RelationFeature.Embedding };
        embedded.StudentFeatures.ShouldBeSameAs(batch.Embedding);
        Should.Throw<InvalidOperationException>(() => LossTerms.Get("rkd-d").Compute(embedded, teacher)).Message.ShouldContain("loss 'rkd-d' compares embeddings");
    }
}
