using Orchestrator.Distillation.Configuration;
using Orchestrator.Distillation.Data;
using Orchestrator.Distillation.Losses;
using Orchestrator.Distillation.Models;
using Orchestrator.Distillation.SoftTargets;
using Orchestrator.Distillation.Training;
using Orchestrator.Tests;
using Shouldly;
using Orchestrator.Distillation.Trials;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Tests;

/// <summary>
/// Cached soft targets of augmented views (<c>views: V</c>) on real Fashion-MNIST with a real trained teacher: a stored
/// row is the teacher's output on exactly the image a student's epoch sees, and the store holds V x N x classes.
/// </summary>
public sealed class AugmentedViewTests(TeacherFixture fixture) : IDisposable
{
    static readonly AugmentOptions Augment = new(Flip: true, Jitter: 2);
    static readonly AugmentedViews Views = new(4, Augment);
    readonly DistillationData data = DistillationData.Load(new DataOptions("fashion-mnist", fixture.DataRoot, Validation: 400), CPU);

    public void Dispose() => data.Dispose();

    TeacherEnsemble Teacher(AugmentedViews? views) => TeacherEnsemble.Single(fixture.TeacherCheckpoint) with { Views = views };

    SoftTargetBuilder Builder(string store) => new(new SoftTargetStore(store), data, CPU);

    static float MaxDifference(Tensor a, Tensor b) => (a - b).abs().max().item<float>();

    [Fact]
    public void A_stored_row_is_the_teachers_output_on_the_view_the_students_epoch_trains_on()
    {
        var loaded = Builder(TestData.TemporaryDirectory()).LoadForTraining(Teacher(Views), embeddings: true);
        using var cached = new CachedTeacherOutputs(loaded.Train, Views);
        using var teacher = TeacherLoader.Load(fixture.TeacherCheckpoint, data.Info, CPU);
        manual_seed(3);
        using var order = randperm(data.Train.Count);
        for (int epoch = 0; epoch < 6; epoch++) // views 0, 1, 2, 3, then 0 and 1 again
        {
            using var scope = NewDisposeScope();
            var indices = order.narrow(0, 128 * epoch, 128);
            var (images, _) = data.Train.Batch(indices);
            var augmented = Augmentation.Apply(images, indices, Augmentation.ViewKey(Views.Of(epoch)), Augment, data.Black); // as the trainer makes them
            var fresh = teacher.Features(augmented);
            var row = cached.For(augmented, indices, epoch).Single();
            MaxDifference(row.Logits, fresh.Logits).ShouldBeLessThan(1e-4f);
            MaxDifference(row.Embedding!, fresh.Embedding).ShouldBeLessThan(1e-4f);
            // Another view's row of the same samples is another image's output: the check above could fail.
            MaxDifference(cached.For(augmented, indices, epoch + 1).Single().Logits, fresh.Logits).ShouldBeGreaterThan(0.1f);
        }
    }

    [Fact]
    public void The_store_holds_views_x_samples_x_classes_and_shards_combine_into_the_one_pass_artifact()
    {
        string sharded = TestData.TemporaryDirectory(), whole = TestData.TemporaryDirectory();
        var member = Teacher(Views).Members[0];
        for (int shard = 0; shard < 3; shard++) Builder(sharded).BuildShard(member, embeddings: false, Views, shard, shards: 3).Cached.ShouldBeFalse();
        var fromShards = Builder(sharded).Aggregate(Teacher(Views), embeddings: false, shards: 3);
        var direct = Builder(whole).Aggregate(Teacher(Views), embeddings: false, shards: 1);
        var plain = Builder(whole).Aggregate(Teacher(views: null), embeddings: false, shards: 1);

        fromShards.Key.ShouldBe(direct.Key);
        plain.Key.ShouldNotBe(direct.Key);
        direct.Manifest.Inputs["views"].ShouldBe("4 x crop 0, flip yes, jitter 2");
        plain.Manifest.Inputs.ShouldNotContainKey("views");
        long n = data.Train.Count, classes = data.Info.Classes;
        var train = direct.Manifest.Tensors.Single(t => t.Name == "train.logits.0");
        train.Shape.ShouldBe([4, n, classes]);
        train.Bytes.ShouldBe(4 * n * classes * sizeof(float));
        // Validation is never augmented: one copy, as without views.
        direct.Manifest.Tensors.Single(t => t.Name == "validation.logits.0").Shape.ShouldBe([data.Validation.Count, classes]);
        direct.Manifest.Tensors.Sum(t => t.Bytes).ShouldBe(plain.Manifest.Tensors.Sum(t => t.Bytes) + 3 * n * classes * sizeof(float));

        var a = SoftTargetFile.Read(new SoftTargetStore(sharded).ArtifactPath(fromShards.Key), fromShards.Key, CPU).Tensors;
        var b = SoftTargetFile.Read(new SoftTargetStore(whole).ArtifactPath(direct.Key), direct.Key, CPU).Tensors;
        foreach (var name in a.Keys) MaxDifference(a[name], b[name]).ShouldBeLessThan(1e-4f);
    }

    [Fact]
    public void A_student_on_stored_views_imitates_the_teacher_on_the_image_it_sees()
    {
        var loss = new LossRecipe(LossRecipe.WeightsFromAlpha(["ce", "hinton"], 0.7), 4, 1, RelationFeature.Logits);
        var plain = TrainingTests.Config(fixture.DataRoot, "mlp-128", epochs: 2, loss);
        var config = plain with { Training = plain.Training with { Augment = Augment }, Teacher = Teacher(views: null) };
        string store = TestData.TemporaryDirectory();
        var unshifted = TrialRunner.Run(config, TestData.TemporaryDirectory(), softTargetDirectory: store, cancellation: TestContext.Current.CancellationToken);
        var viewed = TrialRunner.Run(config with { Teacher = Teacher(Views) }, TestData.TemporaryDirectory(), softTargetDirectory: store,
            cancellation: TestContext.Current.CancellationToken);
        viewed.SoftTargets.ShouldNotBe(unshifted.SoftTargets);
        // Outputs of the un-shifted images are a worse target for a shifted image than the teacher's output on it
        // (the same comparison as the online teacher's in SoftTargetTests).
        for (int epoch = 0; epoch < 2; epoch++)
            viewed.Epochs[epoch].LossTerms["hinton"].ShouldBeLessThan(0.8 * unshifted.Epochs[epoch].LossTerms["hinton"]);
    }

    static TrialConfig Trial(string teacher, string augment = "{ jitter: 2 }") => TrialConfig.Load(TestData.WriteFile("trial.yaml",
        $"dataset: fashion-mnist\nmodel: mlp-400\nepochs: 1\nloss: {{ terms: [ce, hinton], alpha: 0.5 }}\naugment: {augment}\nteacher: {teacher}\n"));

    [Fact]
    public void A_trial_files_views_are_of_its_own_augmentation()
    {
        var views = Trial("{ checkpoint: t.ckpt, views: 8 }").Teacher!.Views!;
        views.ShouldBe(new AugmentedViews(8, new AugmentOptions(Jitter: 2)));
        Trial("{ checkpoint: t.ckpt }").Teacher!.Views.ShouldBeNull();
        Trial("{ checkpoint: t.ckpt, views: 0 }", augment: "none").Teacher!.Views.ShouldBeNull(); // 0: none, so no augment is needed
    }

    [Theory]
    [InlineData("{ checkpoint: t.ckpt, views: 8 }", "none", "6:39: teacher.views: views are the teachers' outputs on augmented images, but the student has no augment section")]
    [InlineData("{ checkpoint: t.ckpt, views: 8, soft_targets: online }", "{ jitter: 2 }", "teacher.views: views are stored soft targets; online teachers already see every augmented batch")]
    [InlineData("{ checkpoint: t.ckpt, views: 65 }", "{ jitter: 2 }", "teacher.views: views must be between 0 (none) and 64")]
    public void Views_that_cannot_be_used_are_refused_with_where_and_what_to_write(string teacher, string augment, string message) =>
        Should.Throw<UserInputException>(() => Trial(teacher, augment)).Message.ShouldContain(message);
}
