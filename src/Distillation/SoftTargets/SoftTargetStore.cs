using System.Globalization;
using Orchestrator.Distillation.Data;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.SoftTargets;

/// <summary>
/// A folder of content-addressed soft targets, shared by every trial and sweep that points at it:
/// <c>&lt;key&gt;.soft</c> for a combined artifact, <c>parts/&lt;key&gt;.part</c> for one teacher's outputs on one
/// shard of the data (what the generation jobs write; safe to delete once their artifacts exist). With augmented views,
/// the training split's tensors are [views, samples, ...], the other splits' [samples, ...] (they are never augmented). A file that
/// fails its checks is moved aside to <c>.rejected</c>, reported, and never used.
/// </summary>
public sealed class SoftTargetStore(string directory)
{
    public const string DirectoryVariable = "ORCHESTRATOR_SOFT_TARGETS";
    public static readonly string[] Splits = ["train", "validation"];
    public static readonly string[] SplitsWithTest = ["train", "validation", "test"];

    /// <summary>$ORCHESTRATOR_SOFT_TARGETS, else runs/soft-targets (beside the default output folders, so runs share it).</summary>
    public static string DefaultDirectory =>
        Environment.GetEnvironmentVariable(DirectoryVariable) is { Length: > 0 } configured ? configured : Path.Combine("runs", "soft-targets");

    public string Directory { get; } = Path.GetFullPath(directory);

    public string ArtifactPath(string key) => Path.Combine(Directory, $"{key}.soft");
    public string PartPath(string key) => Path.Combine(Directory, "parts", $"{key}.part");

    /// <summary>Everything a combined artifact depends on; its key is their hash. Temperature applies to the store only for mean-probs.</summary>
    public static SortedDictionary<string, string> ArtifactInputs(DistillationData data, IReadOnlyList<string> teacherHashes, TeacherEnsemble ensemble, bool embeddings) => WithViews(ensemble.Views, new(StringComparer.Ordinal)
    {
        ["kind"] = "soft-targets",
        ["dataset"] = data.Info.Name,
        ["dataset_fingerprint"] = data.Fingerprint,
        ["teachers"] = string.Join(",", teacherHashes),
        ["aggregation"] = TeacherEnsemble.NameOf(ensemble.Aggregation),
        ["temperature"] = ensemble.Aggregation == Aggregation.MeanProbs ? ensemble.AggregationTemperature.ToString("R", CultureInfo.InvariantCulture) : "-",
        ["dtype"] = TeacherEnsemble.NameOf(ensemble.Dtype),
        ["embeddings"] = embeddings ? "yes" : "no",
    });

    /// <summary>Everything one teacher's shard depends on. Parts are always float32: they are inputs to aggregation.</summary>
    public static SortedDictionary<string, string> PartInputs(DistillationData data, string teacherHash, bool embeddings, AugmentedViews? views, int shard, int shards) => WithViews(views, new(StringComparer.Ordinal)
    {
        ["kind"] = "part",
        ["dataset"] = data.Info.Name,
        ["dataset_fingerprint"] = data.Fingerprint,
        ["teacher"] = teacherHash,
        ["embeddings"] = embeddings ? "yes" : "no",
        ["shard"] = $"{shard}/{shards}",
    });

    /// <summary>Views are an input only when there are some, so files made before views existed keep their keys.</summary>
    static SortedDictionary<string, string> WithViews(AugmentedViews? views, SortedDictionary<string, string> inputs)
    {
        if (views is not null) inputs["views"] = views.Key;
        return inputs;
    }

    /// <summary>
    /// The verified contents of <paramref name="path"/>, or null when it is absent or fails a check (key, length,
    /// checksum, class count, sample counts); a failed file is moved aside and <paramref name="report"/> says why.
    /// </summary>
    public (SoftTargetManifest Manifest, Dictionary<string, Tensor> Tensors)? TryRead(string path, string key, IReadOnlyDictionary<string, long> samples,
        int classes, Device device, Action<string> report)
    {
        if (!File.Exists(path)) return null;
        try
        {
            var read = SoftTargetFile.Read(path, key, device);
            string? mismatch = read.Manifest.Classes != classes ? $"holds {read.Manifest.Classes} classes, the dataset has {classes}"
                : samples.Where(s => !read.Manifest.Samples.TryGetValue(s.Key, out long n) || n != s.Value)
                    .Select(s => $"holds {read.Manifest.Samples.GetValueOrDefault(s.Key)} {s.Key} samples, the dataset split has {s.Value}").FirstOrDefault();
            if (mismatch is null) return read;
            foreach (var tensor in read.Tensors.Values) tensor.Dispose();
            throw new SoftTargetFileRejected(path, mismatch);
        }
        catch (SoftTargetFileRejected rejected)
        {
            string aside = path + ".rejected";
            try { File.Move(path, aside, overwrite: true); }
            catch (IOException) { } // another reader moved it first
            report($"soft targets {Path.GetFileName(path)} rejected: {rejected.Reason}; moved to {aside} and generated again");
            return null;
        }
    }

    /// <summary>The number of samples per split of <paramref name="data"/>, as a manifest records them.</summary>
    public static Dictionary<string, long> SampleCounts(DistillationData data, IEnumerable<string> splits) =>
        splits.ToDictionary(s => s, s => Set(data, s).Count);

    public static ImageSet Set(DistillationData data, string split) => split switch
    {
        "train" => data.Train,
        "validation" => data.Validation,
        "test" => data.Test,
        _ => throw new ArgumentOutOfRangeException(nameof(split), split, null),
    };

    public static string LogitsName(string split, int member) => $"{split}.logits.{member}";
    public static string EmbeddingsName(string split, int member) => $"{split}.embeddings.{member}";
}
