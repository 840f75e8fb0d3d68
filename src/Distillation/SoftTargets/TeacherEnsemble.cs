using System.Security.Cryptography;
using System.Text.Json.Serialization;
using Orchestrator.Distillation.Training;

namespace Orchestrator.Distillation.SoftTargets;

/// <summary>How the outputs of several teachers become one target: averaged logits, averaged probabilities, or kept apart.</summary>
public enum Aggregation { MeanLogits, MeanProbs, PerTeacher }

/// <summary>Where a student's teacher outputs come from: the soft-target store (computed once), or a teacher forward every step.</summary>
public enum SoftTargetMode { Cached, Online }

/// <summary>The element type soft targets are stored in; float16 halves the store and the memory, float32 is exact.</summary>
public enum SoftTargetDtype { Float32, Float16 }

/// <summary>One teacher: a checkpoint file and, when known in advance, the SHA-256 it must have.</summary>
/// <param name="TorchScript">For a teacher saved by PyTorch as TorchScript (<see cref="Checkpoint"/> is that file), the input
/// normalisation it expects; null: a checkpoint of this tool.</param>
/// <param name="Stages">For a TorchScript teacher whose forward also returns feature maps, their stage names in order (<c>stages:</c>); null for none.</param>
public sealed record TeacherSource(string Checkpoint, string? Sha256 = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Data.InputNormalisation? TorchScript = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Stages = null)
{
    /// <summary>
    /// What the teacher's outputs depend on, for soft-target keys and trial identities: a checkpoint of this tool's
    /// weights (their SHA-256, so the same training gives the same identity whatever else its file records), else the
    /// file's SHA-256, and for TorchScript the normalisation it is fed. A pin (<see cref="Sha256"/>) is checked against
    /// the file's SHA-256, what <c>sha256sum</c> prints.
    /// </summary>
    public string Verify()
    {
        if (!File.Exists(Checkpoint))
            throw new UserInputException($"teacher checkpoint {Checkpoint} does not exist; train the teacher first (orchestrator trial <teacher.yaml>).");
        var (fileSha256, weightsSha256) = Hashes();
        if (Sha256 is { } expected && !string.Equals(expected, fileSha256, StringComparison.OrdinalIgnoreCase))
            throw new UserInputException($"teacher checkpoint {Checkpoint} has sha256 {fileSha256}, but {expected} was expected: the file changed since it was " +
                                         "pinned or planned. Restore the file, or update the sha256.");
        return weightsSha256 is not null ? "weights:" + weightsSha256 : Identity(fileSha256);
    }

    /// <summary>
    /// The identity of a TorchScript teacher, or of a checkpoint that records no weights hash, from the file's SHA-256; a
    /// TorchScript teacher's stage names are in it (which output a feature loss compares), when it has them.
    /// </summary>
    public string Identity(string fileSha256) => TorchScript is { } input
        ? $"{fileSha256}+torchscript(mean {Join(input.Mean)}, std {Join(input.Std)}){(Stages is null ? "" : $"+stages({string.Join(", ", Stages)})")}"
        : fileSha256;

    /// <summary>
    /// The file's SHA-256 and its weights' (a checkpoint of this tool written since it records them), read once per file
    /// version in a process: every student of a pack and every shard verifies the same teachers.
    /// </summary>
    (string File, string? Weights) Hashes()
    {
        var file = new FileInfo(Checkpoint);
        var version = (file.Length, file.LastWriteTimeUtc);
        if (Known.TryGetValue(file.FullName, out var known) && known.Version == version) return known.Hashes;
        var hashes = (FileSha256(Checkpoint), TorchScript is null ? Training.Checkpoint.ReadState(Checkpoint).WeightsSha256 : null);
        Known[file.FullName] = (version, hashes);
        return hashes;
    }

    static readonly System.Collections.Concurrent.ConcurrentDictionary<string, ((long, DateTime) Version, (string, string?) Hashes)> Known = new();

    static string Join(float[] values) => string.Join(" ", values.Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture)));

    /// <summary>The most a checkpoint may hold: far above any model this tool trains, and a bound on what a bad path (/dev/zero) makes it read.</summary>
    public const long MaxCheckpointBytes = 8L << 30;

    /// <summary>
    /// The file's SHA-256, read no further than its length and <see cref="MaxCheckpointBytes"/>: a device (/dev/zero
    /// has length 0 and never ends) or an endless file is bad input, not a hang.
    /// </summary>
    public static string FileSha256(string path)
    {
        long length = new FileInfo(path).Length;
        if (length > MaxCheckpointBytes) throw new UserInputException($"{path} holds {length >> 30} GiB, over {MaxCheckpointBytes >> 30} GiB: not a checkpoint.");
        return FileDigest.Sha256(path);
    }
}

/// <summary>
/// Cached soft targets of augmented images (<c>views: V</c>): the store holds the teachers' outputs on
/// <paramref name="Count"/> augmented copies of every training sample, copy v made with the student's augmentation
/// under <see cref="Augmentation.ViewKey"/>(v); a student's epoch e trains on view e mod V, with exactly those outputs.
/// </summary>
public sealed record AugmentedViews(int Count, AugmentOptions Augment)
{
    /// <summary>The most views: 64 copies of the outputs is already far more store than one teacher pass.</summary>
    public const int Max = 64;

    /// <summary>The view epoch <paramref name="epoch"/> (0-based) trains on.</summary>
    public int Of(int epoch) => epoch % Count;

    /// <summary>Part of a soft-target key: what the stored images are.</summary>
    public string Key => $"{Count} x crop {Augment.Crop}, flip {(Augment.Flip ? "yes" : "no")}, jitter {Augment.Jitter}";

    /// <summary>
    /// <paramref name="count"/> views of a student's augmentation; null for 0 (outputs of the images as they are, so a
    /// sweep can compare views: 0 with views: 8). Throws with what to write when views cannot be used with these settings.
    /// </summary>
    public static AugmentedViews? Create(int count, SoftTargetMode mode, AugmentOptions? augment)
    {
        if (count is < 0 or > Max) throw new UserInputException($"views must be between 0 (none) and {Max}: how many augmented copies of every sample the store keeps the teachers' outputs for.");
        if (count == 0) return null;
        if (mode != SoftTargetMode.Cached) throw new UserInputException("views are stored soft targets; online teachers already see every augmented batch. Remove views, or use cached soft targets.");
        if (augment is null) throw new UserInputException("views are the teachers' outputs on augmented images, but the student has no augment section; add one (e.g. augment: standard), or remove views.");
        return new AugmentedViews(count, augment);
    }
}

/// <summary>
/// The teachers a student learns from (one or more) and how their outputs are combined and delivered.
/// <see cref="AggregationTemperature"/> is the T of mean-probs (the ensemble's probabilities are averaged at that T).
/// </summary>
/// <param name="Views">Cached outputs of augmented views of the training set; null: of the training images as they are.</param>
public sealed record TeacherEnsemble(
    IReadOnlyList<TeacherSource> Members,
    Aggregation Aggregation = Aggregation.MeanLogits,
    double AggregationTemperature = 1,
    SoftTargetMode Mode = SoftTargetMode.Cached,
    SoftTargetDtype Dtype = SoftTargetDtype.Float32,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] AugmentedViews? Views = null)
{
    public static readonly IReadOnlyDictionary<string, Aggregation> AggregationNames = new Dictionary<string, Aggregation>
    {
        ["mean-logits"] = Aggregation.MeanLogits,
        ["mean-probs"] = Aggregation.MeanProbs,
        ["per-teacher"] = Aggregation.PerTeacher,
    };

    public static readonly IReadOnlyDictionary<string, SoftTargetMode> ModeNames = new Dictionary<string, SoftTargetMode>
    {
        ["cached"] = SoftTargetMode.Cached,
        ["online"] = SoftTargetMode.Online,
    };

    public static readonly IReadOnlyDictionary<string, SoftTargetDtype> DtypeNames = new Dictionary<string, SoftTargetDtype>
    {
        ["float32"] = SoftTargetDtype.Float32,
        ["float16"] = SoftTargetDtype.Float16,
    };

    public static TeacherEnsemble Single(string checkpoint) => new([new TeacherSource(checkpoint)]);

    public static string NameOf(Aggregation aggregation) => AggregationNames.First(p => p.Value == aggregation).Key;
    public static string NameOf(SoftTargetMode mode) => ModeNames.First(p => p.Value == mode).Key;
    public static string NameOf(SoftTargetDtype dtype) => DtypeNames.First(p => p.Value == dtype).Key;

    /// <summary>What the student computes from its teachers, apart from which teachers: part of a trial's identity.</summary>
    public object Recipe => new RecipeKey(NameOf(Aggregation), Aggregation == Aggregation.MeanProbs ? AggregationTemperature : null, NameOf(Mode),
        Mode == SoftTargetMode.Cached ? NameOf(Dtype) : null, Views?.Key);

    /// <summary>Views are left out when there are none, so a trial planned before views existed keeps its identity.</summary>
    sealed record RecipeKey(string Aggregation, double? Temperature, string Mode, string? Dtype,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Views);
}
