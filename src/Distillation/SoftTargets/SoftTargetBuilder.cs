using Orchestrator.Distillation.Data;
using Orchestrator.Distillation.Models;
using Orchestrator.Distillation.Training;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.SoftTargets;

/// <summary>What a soft-target step did: the key it produced or found, whether the store already had it, and what it noted on the way.</summary>
public sealed record SoftTargetOutcome(string Key, bool Cached, SoftTargetManifest Manifest, IReadOnlyList<string> Notes);

/// <summary>Soft targets ready for training: the artifact's key and manifest, and the training split's teacher views as the losses read them.</summary>
public sealed record LoadedSoftTargets(string Key, SoftTargetManifest Manifest, IReadOnlyList<TeacherView> Train, IReadOnlyList<string> Notes);

/// <summary>
/// Makes soft targets for one loaded dataset: a teacher's outputs on one shard of every split (a generation job),
/// the combination of all teachers' shards into one artifact (the aggregation job, which also measures each
/// teacher's and the ensemble's accuracy), and the training view a student loads. Rows are in sample-index order:
/// row i of a split is the split's i-th sample, which is what a batch's indices address.
/// </summary>
public sealed class SoftTargetBuilder(SoftTargetStore store, DistillationData data, Device device, Action<string>? log = null)
{
    const int BatchSize = 4096;
    readonly List<string> notes = [];

    void Note(string note)
    {
        notes.Add(note);
        log?.Invoke(note);
    }

    /// <summary>One teacher's logits (and embeddings) on shard <paramref name="shard"/> of <paramref name="shards"/> of every split, written as a part.</summary>
    public SoftTargetOutcome BuildShard(TeacherSource teacher, bool embeddings, AugmentedViews? views, int shard, int shards)
    {
        string hash = teacher.Verify();
        var inputs = SoftTargetStore.PartInputs(data, hash, embeddings, views, shard, shards);
        string key = SoftTargetFile.KeyOf(inputs);
        string path = store.PartPath(key);
        var samples = SoftTargetStore.SplitsWithTest.ToDictionary(s => s, s => ShardRange(s, shard, shards).Count);
        if (store.TryRead(path, key, samples, data.Info.Classes, CPU, Note) is { } existing)
        {
            Dispose(existing.Tensors);
            return new SoftTargetOutcome(key, Cached: true, existing.Manifest, notes);
        }
        using var scope = NewDisposeScope();
        using var model = TeacherLoader.Load(teacher, data, device);
        var tensors = new List<(string, Tensor)>();
        foreach (string split in SoftTargetStore.SplitsWithTest)
        {
            var (start, count) = ShardRange(split, shard, shards);
            var view = Outputs(model, split, start, count, embeddings, views);
            tensors.Add((SoftTargetStore.LogitsName(split, 0), view.Logits));
            if (view.Embedding is not null) tensors.Add((SoftTargetStore.EmbeddingsName(split, 0), view.Embedding));
        }
        var manifest = SoftTargetFile.Write(path, "part", inputs, samples, data.Info.Classes, tensors, SoftTargetDtype.Float32);
        return new SoftTargetOutcome(key, Cached: false, manifest, notes);
    }

    /// <summary>
    /// The ensemble's artifact: found in the store, or combined from the teachers' parts (a teacher whose parts are
    /// missing or rejected is run here instead), with every teacher's and the ensemble's validation and test accuracy.
    /// </summary>
    public SoftTargetOutcome Aggregate(TeacherEnsemble ensemble, bool embeddings, int shards)
    {
        var hashes = ensemble.Members.Select(m => m.Verify()).ToList();
        var inputs = SoftTargetStore.ArtifactInputs(data, hashes, ensemble, embeddings);
        string key = SoftTargetFile.KeyOf(inputs);
        string path = store.ArtifactPath(key);
        if (store.TryRead(path, key, SoftTargetStore.SampleCounts(data, SoftTargetStore.Splits), data.Info.Classes, CPU, Note) is { } existing)
        {
            Dispose(existing.Tensors);
            return new SoftTargetOutcome(key, Cached: true, existing.Manifest, notes);
        }
        using var scope = NewDisposeScope();
        var members = ensemble.Members.Select((m, k) => MemberOutputs(m, hashes[k], embeddings, ensemble.Views, shards)).ToList();
        var teachers = ensemble.Members.Select((m, k) => new MemberAccuracy(m.Checkpoint, hashes[k], Parameters(m),
            Accuracy(members[k]["validation"].Logits.argmax(1), data.Validation), Accuracy(members[k]["test"].Logits.argmax(1), data.Test))).ToList();
        var tensors = new List<(string, Tensor)>();
        var accuracy = new Dictionary<string, double>();
        foreach (string split in SoftTargetStore.SplitsWithTest)
        {
            var combined = SoftTargetAggregation.Combine(members.Select(m => m[split]).ToList(), ensemble.Aggregation, ensemble.AggregationTemperature);
            if (split != "train") accuracy[split] = Accuracy(SoftTargetAggregation.Predictions(combined, ensemble.Aggregation), SoftTargetStore.Set(data, split));
            if (split == "test") continue; // the test set is only ever reported, never trained or chosen on
            for (int k = 0; k < combined.Count; k++)
            {
                tensors.Add((SoftTargetStore.LogitsName(split, k), combined[k].Logits));
                if (combined[k].Embedding is { } embedding) tensors.Add((SoftTargetStore.EmbeddingsName(split, k), embedding));
            }
        }
        var ensembleAccuracy = new MemberAccuracy($"ensemble of {members.Count}", key, teachers.Sum(t => t.Parameters), accuracy["validation"], accuracy["test"]);
        var manifest = SoftTargetFile.Write(path, "soft-targets", inputs, SoftTargetStore.SampleCounts(data, SoftTargetStore.Splits), data.Info.Classes,
            tensors, ensemble.Dtype, teachers, ensembleAccuracy);
        return new SoftTargetOutcome(key, Cached: false, manifest, notes);
    }

    /// <summary>The artifact a student trains from, on the training device; generated here first when the store lacks it or rejects it.</summary>
    /// <param name="teacherHashes">The members' checkpoint hashes when the caller has verified them already; null: verified here.</param>
    public LoadedSoftTargets LoadForTraining(TeacherEnsemble ensemble, bool embeddings, IReadOnlyList<string>? teacherHashes = null)
    {
        var hashes = teacherHashes ?? ensemble.Members.Select(m => m.Verify()).ToList();
        string key = SoftTargetFile.KeyOf(SoftTargetStore.ArtifactInputs(data, hashes, ensemble, embeddings));
        var read = Read(key);
        if (read is null)
        {
            Note($"soft targets {key} are not in {store.Directory}: generating them from {ensemble.Members.Count} teacher(s)");
            Aggregate(ensemble, embeddings, shards: 1);
            read = Read(key) ?? throw new InvalidOperationException($"soft targets {key} were written but cannot be read back from {store.Directory}");
        }
        var (manifest, tensors) = read.Value;
        int outputs = ensemble.Aggregation == Aggregation.PerTeacher ? ensemble.Members.Count : 1;
        var train = Enumerable.Range(0, outputs).Select(k => SoftTargetAggregation.ForLoss(new TeacherView(
            tensors[SoftTargetStore.LogitsName("train", k)], tensors.GetValueOrDefault(SoftTargetStore.EmbeddingsName("train", k))),
            ensemble.Aggregation, ensemble.AggregationTemperature)).ToList();
        foreach (var (name, tensor) in tensors)
            if (!train.Any(v => ReferenceEquals(v.Logits, tensor) || ReferenceEquals(v.Embedding, tensor))) tensor.Dispose();
        return new LoadedSoftTargets(key, manifest, train, notes);

        (SoftTargetManifest, Dictionary<string, Tensor>)? Read(string k) =>
            store.TryRead(store.ArtifactPath(k), k, SoftTargetStore.SampleCounts(data, SoftTargetStore.Splits), data.Info.Classes, device, Note);
    }

    /// <summary>One teacher's outputs on every split: from its parts when all are present and valid, else computed here.</summary>
    Dictionary<string, TeacherView> MemberOutputs(TeacherSource teacher, string hash, bool embeddings, AugmentedViews? views, int shards)
    {
        var parts = new List<Dictionary<string, Tensor>>();
        for (int shard = 0; shard < shards; shard++)
        {
            string key = SoftTargetFile.KeyOf(SoftTargetStore.PartInputs(data, hash, embeddings, views, shard, shards));
            var samples = SoftTargetStore.SplitsWithTest.ToDictionary(s => s, s => ShardRange(s, shard, shards).Count);
            if (store.TryRead(store.PartPath(key), key, samples, data.Info.Classes, device, Note) is not { } part) break;
            parts.Add(part.Tensors);
        }
        // Shards split the samples, the second-to-last dimension ([views, samples, ...] or [samples, ...]).
        if (parts.Count == shards)
            return SoftTargetStore.SplitsWithTest.ToDictionary(split => split, split => new TeacherView(
                cat(parts.Select(p => p[SoftTargetStore.LogitsName(split, 0)]).ToList(), -2),
                embeddings ? cat(parts.Select(p => p[SoftTargetStore.EmbeddingsName(split, 0)]).ToList(), -2) : null));

        if (shards > 1) Note($"teacher {teacher.Checkpoint}: {shards - parts.Count} of its {shards} shard(s) are missing from {store.Directory}; computing its outputs here");
        using var model = TeacherLoader.Load(teacher, data, device);
        return SoftTargetStore.SplitsWithTest.ToDictionary(split => split, split => Outputs(model, split, 0, SoftTargetStore.Set(data, split).Count, embeddings, views));
    }

    /// <summary>Rows [start, start + count) of a split that shard <paramref name="shard"/> of <paramref name="shards"/> covers.</summary>
    (long Start, long Count) ShardRange(string split, int shard, int shards)
    {
        long total = SoftTargetStore.Set(data, split).Count;
        long start = total * shard / shards, end = total * (shard + 1) / shards;
        return (start, end - start);
    }

    /// <summary>
    /// A teacher's outputs on rows [start, start + count) of a split; for the training split with views, on each view
    /// of them, [views, count, ...]: the images made exactly as a student's epoch on that view makes them.
    /// </summary>
    TeacherView Outputs(Classifier teacher, string split, long start, long count, bool embeddings, AugmentedViews? views)
    {
        var images = SoftTargetStore.Set(data, split).Images.narrow(0, start, count);
        if (views is null || split != "train") return Forward(teacher, images, embeddings);
        var perView = Enumerable.Range(0, views.Count).Select(v => Forward(teacher, images, embeddings, (batch, offset) =>
        {
            var positions = arange(start + offset, start + offset + batch.shape[0], device: batch.device);
            return Augmentation.Apply(batch, positions, Augmentation.ViewKey(v), views.Augment, data.Black);
        })).ToList();
        return new TeacherView(stack(perView.Select(p => p.Logits)), embeddings ? stack(perView.Select(p => p.Embedding!)) : null);
    }

    /// <param name="prepare">What a batch of images (and its first row's offset in <paramref name="images"/>) becomes before the teacher sees it; null: nothing.</param>
    static TeacherView Forward(Classifier teacher, Tensor images, bool embeddings, Func<Tensor, long, Tensor>? prepare = null)
    {
        using var _ = no_grad();
        var logits = new List<Tensor>();
        var embedding = new List<Tensor>();
        for (long start = 0; start < images.shape[0]; start += BatchSize)
        {
            using var batch = NewDisposeScope(); // activations of one batch only; the outputs move to the caller's scope
            var inputs = images.narrow(0, start, Math.Min(BatchSize, images.shape[0] - start));
            var (l, e) = teacher.Features(prepare is null ? inputs : prepare(inputs, start));
            logits.Add(l.MoveToOuterDisposeScope());
            if (embeddings) embedding.Add((e ?? throw new UserInputException("the TorchScript teacher returns logits only, and the loss compares embeddings: " +
                "make its forward return (logits, embedding), or use features: logits.")).MoveToOuterDisposeScope());
        }
        return new TeacherView(cat(logits, 0), embeddings ? cat(embedding, 0) : null);
    }

    static double Accuracy(Tensor predictions, ImageSet set)
    {
        using var correct = predictions.to(set.Labels.device).eq(set.Labels).sum();
        return (double)correct.item<long>() / set.Count;
    }

    long Parameters(TeacherSource teacher)
    {
        using var model = teacher.TorchScript is null ? ModelRegistry.Create(Checkpoint.ReadState(teacher.Checkpoint).Model, data.Info) : TeacherLoader.Load(teacher, data, CPU);
        return model.ParameterCount;
    }

    static void Dispose(Dictionary<string, Tensor> tensors)
    {
        foreach (var tensor in tensors.Values) tensor.Dispose();
    }
}
