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

/// <summary>The soft-target store on real Fashion-MNIST with real trained teachers: alignment, aggregation, caching and verification.</summary>
public sealed class SoftTargetTests(TeacherFixture fixture) : IDisposable
{
    readonly DistillationData data = DistillationData.Load(new DataOptions("fashion-mnist", fixture.DataRoot, Validation: 400), CPU);
    readonly List<string> reports = [];

    public void Dispose() => data.Dispose();

    TeacherEnsemble Ensemble(Aggregation aggregation = Aggregation.MeanLogits, SoftTargetMode mode = SoftTargetMode.Cached, SoftTargetDtype dtype = SoftTargetDtype.Float32) =>
        new([new TeacherSource(fixture.TeacherCheckpoint), new TeacherSource(fixture.SecondTeacherCheckpoint)], aggregation, 4, mode, dtype);

    SoftTargetBuilder Builder(string store) => new(new SoftTargetStore(store), data, CPU, reports.Add);

    static void ShouldBeClose(Tensor actual, Tensor expected, double tolerance = 1e-4) =>
        (actual - expected).abs().max().item<float>().ShouldBeLessThan((float)tolerance);

    [Fact]
    public void Cached_rows_are_the_teachers_outputs_for_the_same_shuffled_sample_indices()
    {
        var loaded = Builder(TestData.TemporaryDirectory()).LoadForTraining(TeacherEnsemble.Single(fixture.TeacherCheckpoint), embeddings: true);
        using var cached = new CachedTeacherOutputs(loaded.Train, views: null);
        using var teacher = TeacherLoader.Load(fixture.TeacherCheckpoint, data.Info, CPU);
        manual_seed(7);
        using var order = randperm(data.Train.Count); // how the trainer shuffles an epoch
        for (long start = 0; start < 3 * 128; start += 128)
        {
            using var scope = NewDisposeScope();
            var indices = order.narrow(0, start, 128);
            var (images, _) = data.Train.Batch(indices);
            var fresh = teacher.Features(images);
            var row = cached.For(images, indices, epoch: 0).Single();
            ShouldBeClose(row.Logits, fresh.Logits);
            ShouldBeClose(row.Embedding!, fresh.Embedding);
            // The same rows looked up by other indices are not the batch's: the check above could fail.
            (cached.For(images, indices.flip(0), epoch: 0).Single().Logits - fresh.Logits).abs().max().item<float>().ShouldBeGreaterThan(0.1f);
        }
    }

    [Theory]
    [InlineData(Aggregation.MeanLogits)]
    [InlineData(Aggregation.MeanProbs)]
    [InlineData(Aggregation.PerTeacher)]
    public void An_online_ensemble_gives_the_losses_the_same_targets_as_its_cache(Aggregation aggregation)
    {
        var loaded = Builder(TestData.TemporaryDirectory()).LoadForTraining(Ensemble(aggregation), embeddings: false);
        using var cached = new CachedTeacherOutputs(loaded.Train, views: null);
        var teachers = Ensemble().Members.Select(m => TeacherLoader.Load(m.Checkpoint, data.Info, CPU)).ToList();
        using var online = new OnlineTeacherOutputs(teachers, Ensemble(aggregation, SoftTargetMode.Online), embeddings: false);
        using var scope = NewDisposeScope();
        var indices = randperm(data.Train.Count).narrow(0, 0, 200);
        var (images, _) = data.Train.Batch(indices);
        var fromCache = cached.For(images, indices, epoch: 0);
        var computed = online.For(images, indices, epoch: 0);
        fromCache.Count.ShouldBe(aggregation == Aggregation.PerTeacher ? 2 : 1);
        for (int k = 0; k < fromCache.Count; k++) ShouldBeClose(fromCache[k].Logits, computed[k].Logits);
        if (aggregation == Aggregation.MeanProbs)
        {
            // Softmax at the aggregation temperature gives back the mean of the teachers' probabilities at that T.
            var members = teachers.Select(t => nn.functional.softmax(t.forward(images) / 4, 1)).ToList();
            ShouldBeClose(nn.functional.softmax(fromCache[0].Logits / 4, 1), (members[0] + members[1]) / 2);
        }
    }

    [Fact]
    public void Generation_shards_combine_into_the_same_artifact_as_one_pass_and_are_then_reused()
    {
        string sharded = TestData.TemporaryDirectory(), whole = TestData.TemporaryDirectory();
        var ensemble = Ensemble();
        foreach (var (member, index) in ensemble.Members.Select((m, i) => (m, i)))
            for (int shard = 0; shard < 3; shard++)
                Builder(sharded).BuildShard(member, embeddings: false, views: null, shard, shards: 3).Cached.ShouldBeFalse();
        var fromShards = Builder(sharded).Aggregate(ensemble, embeddings: false, shards: 3);
        reports.ShouldBeEmpty(); // every part was found: no teacher ran during aggregation
        var direct = Builder(whole).Aggregate(ensemble, embeddings: false, shards: 1);
        direct.Key.ShouldBe(fromShards.Key);
        var a = SoftTargetFile.Read(new SoftTargetStore(sharded).ArtifactPath(fromShards.Key), fromShards.Key, CPU).Tensors;
        var b = SoftTargetFile.Read(new SoftTargetStore(whole).ArtifactPath(direct.Key), direct.Key, CPU).Tensors;
        a.Keys.Order().ShouldBe(["train.logits.0", "validation.logits.0"]);
        foreach (var name in a.Keys) ShouldBeClose(a[name], b[name]);

        string path = new SoftTargetStore(sharded).ArtifactPath(fromShards.Key);
        var written = File.GetLastWriteTimeUtc(path);
        var again = Builder(sharded).Aggregate(ensemble, embeddings: false, shards: 3);
        again.Cached.ShouldBeTrue();
        again.Key.ShouldBe(fromShards.Key);
        File.GetLastWriteTimeUtc(path).ShouldBe(written);
        Builder(sharded).BuildShard(ensemble.Members[0], embeddings: false, views: null, 0, 3).Cached.ShouldBeTrue();
    }

    [Fact]
    public void The_manifest_records_each_teachers_accuracy_and_the_ensembles()
    {
        var outcome = Builder(TestData.TemporaryDirectory()).Aggregate(Ensemble(), embeddings: false, shards: 1);
        var manifest = outcome.Manifest;
        manifest.Samples.ShouldBe(new Dictionary<string, long> { ["train"] = data.Train.Count, ["validation"] = data.Validation.Count });
        manifest.Inputs["teachers"].Split(',').ShouldBe(Ensemble().Members.Select(m => m.Verify())); // each checkpoint's weights hash
        manifest.Inputs["dataset_fingerprint"].ShouldBe(data.Fingerprint);
        for (int k = 0; k < 2; k++)
        {
            using var teacher = TeacherLoader.Load(Ensemble().Members[k].Checkpoint, data.Info, CPU);
            manifest.Teachers![k].Test.ShouldBe(Evaluation.Evaluate(teacher, data.Test, 4096).Accuracy, tolerance: 1e-9);
            manifest.Teachers[k].Validation.ShouldBe(Evaluation.Evaluate(teacher, data.Validation, 4096).Accuracy, tolerance: 1e-9);
        }
        manifest.Ensemble!.Test.ShouldBeInRange(0.5, 1.0);
        manifest.Ensemble.Parameters.ShouldBe(manifest.Teachers!.Sum(t => t.Parameters));
    }

    public static TheoryData<string, string> Damage => new()
    {
        { "flip", "checksum mismatch" },
        { "truncate", "truncated" },
        { "swap", "holds soft targets" },
        { "samples", "train samples, the dataset split has" },
    };

    [Theory]
    [MemberData(nameof(Damage))]
    public void A_damaged_or_mismatched_artifact_is_rejected_reported_and_generated_again(string damage, string reason)
    {
        string directory = TestData.TemporaryDirectory();
        var store = new SoftTargetStore(directory);
        var ensemble = Ensemble();
        var good = Builder(directory).Aggregate(ensemble, embeddings: false, shards: 1);
        string path = store.ArtifactPath(good.Key);
        var bytes = File.ReadAllBytes(path);
        switch (damage)
        {
            case "flip": bytes[^5] ^= 0x40; File.WriteAllBytes(path, bytes); break;
            case "truncate": File.WriteAllBytes(path, bytes[..^100]); break;
            case "samples":
                // A well-formed file under the right key whose rows do not match the split: one training row short.
                var (manifest, tensors) = SoftTargetFile.Read(path, good.Key, CPU);
                var shorter = tensors.Select(t => (t.Key, t.Key.StartsWith("train") ? t.Value.narrow(0, 0, t.Value.shape[0] - 1) : t.Value)).ToList();
                SoftTargetFile.Write(path, manifest.Kind, manifest.Inputs, new() { ["train"] = data.Train.Count - 1, ["validation"] = data.Validation.Count },
                    manifest.Classes, shorter, SoftTargetDtype.Float32);
                break;
            default:
                var other = Builder(directory).Aggregate(ensemble with { Aggregation = Aggregation.MeanProbs }, embeddings: false, shards: 1);
                File.Copy(store.ArtifactPath(other.Key), path, overwrite: true);
                break;
        }
        reports.Clear();

        var loaded = Builder(directory).LoadForTraining(ensemble, embeddings: false);

        reports.ShouldContain(r => r.Contains("rejected") && r.Contains(reason));
        loaded.Notes.ShouldContain(n => n.Contains(reason));
        File.Exists(path + ".rejected").ShouldBeTrue();
        SoftTargetFile.Read(path, good.Key, CPU).Manifest.PayloadSha256.ShouldBe(good.Manifest.PayloadSha256);
        loaded.Key.ShouldBe(good.Key);
    }

    [Fact]
    public void Float16_storage_halves_the_payload_and_stays_close()
    {
        string directory = TestData.TemporaryDirectory();
        var full = Builder(directory).Aggregate(Ensemble(), embeddings: true, shards: 1);
        var half = Builder(directory).Aggregate(Ensemble(dtype: SoftTargetDtype.Float16), embeddings: true, shards: 1);
        half.Key.ShouldNotBe(full.Key);
        half.Manifest.Tensors.Sum(t => t.Bytes).ShouldBe(full.Manifest.Tensors.Sum(t => t.Bytes) / 2);
        var a = SoftTargetFile.Read(new SoftTargetStore(directory).ArtifactPath(full.Key), full.Key, CPU).Tensors;
        var b = SoftTargetFile.Read(new SoftTargetStore(directory).ArtifactPath(half.Key), half.Key, CPU).Tensors;
        ShouldBeClose(b["train.logits.0"], a["train.logits.0"], tolerance: 0.05);
    }

    [Fact]
    public void A_teacher_that_is_not_the_pinned_file_is_refused()
    {
        string copy = Path.Combine(TestData.TemporaryDirectory(), "teacher.ckpt");
        File.Copy(fixture.TeacherCheckpoint, copy);
        string pin = TeacherSource.FileSha256(copy);
        new TeacherSource(copy, pin).Verify().ShouldBe(new TeacherSource(fixture.TeacherCheckpoint).Verify()); // a copy is the same teacher
        File.Copy(fixture.SecondTeacherCheckpoint, copy, overwrite: true);
        Should.Throw<UserInputException>(() => new TeacherSource(copy, pin).Verify()).Message.ShouldContain("the file changed");
    }

    [Fact]
    public void A_student_trained_on_cached_soft_targets_matches_one_with_online_teachers()
    {
        var loss = new LossRecipe(LossRecipe.WeightsFromAlpha(["ce", "hinton"], 0.7), 4, 1, RelationFeature.Logits);
        var config = TrainingTests.Config(fixture.DataRoot, "mlp-128", epochs: 2, loss) with { Teacher = Ensemble() };
        string store = TestData.TemporaryDirectory();
        var cached = TrialRunner.Run(config, TestData.TemporaryDirectory(), softTargetDirectory: store, cancellation: TestContext.Current.CancellationToken);
        var online = TrialRunner.Run(config with { Teacher = Ensemble(mode: SoftTargetMode.Online) }, TestData.TemporaryDirectory(),
            softTargetDirectory: store, cancellation: TestContext.Current.CancellationToken);
        cached.SoftTargets.Length.ShouldBe(32);
        online.SoftTargets.ShouldBe("online");
        cached.TeacherTestAccuracy!.Value.ShouldBe(online.TeacherTestAccuracy!.Value, tolerance: 1e-9);
        for (int epoch = 0; epoch < 2; epoch++)
        {
            cached.Epochs[epoch].TrainLoss.ShouldBe(online.Epochs[epoch].TrainLoss, tolerance: 1e-4);
            cached.Epochs[epoch].ValidationAccuracy.ShouldBe(online.Epochs[epoch].ValidationAccuracy, tolerance: 0.01);
        }
    }

    [Fact]
    public void Under_augmentation_an_online_teacher_sees_the_students_augmented_batch()
    {
        var loss = new LossRecipe(LossRecipe.WeightsFromAlpha(["ce", "hinton"], 0.7), 4, 1, RelationFeature.Logits);
        var plain = TrainingTests.Config(fixture.DataRoot, "mlp-128", epochs: 2, loss) with { Teacher = Ensemble() };
        var config = plain with { Training = plain.Training with { Augment = new AugmentOptions(Jitter: 2) } };
        string store = TestData.TemporaryDirectory();
        var cached = TrialRunner.Run(config, TestData.TemporaryDirectory(), softTargetDirectory: store, cancellation: TestContext.Current.CancellationToken);
        var online = TrialRunner.Run(config with { Teacher = Ensemble(mode: SoftTargetMode.Online) }, TestData.TemporaryDirectory(),
            softTargetDirectory: store, cancellation: TestContext.Current.CancellationToken);
        // Without augmentation the two agree (above); with it the cached outputs are of the un-shifted images, so the
        // student imitating them matches them less well than one imitating the teacher on the very image it sees.
        for (int epoch = 0; epoch < 2; epoch++)
            online.Epochs[epoch].LossTerms["hinton"].ShouldBeLessThan(0.8 * cached.Epochs[epoch].LossTerms["hinton"]); // 2.1 vs 3.6 in epoch 1 here
    }
}
