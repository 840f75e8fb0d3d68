using System.Globalization;
using Orchestrator.Distillation.Configuration;
using Orchestrator.Distillation.Data;
using Orchestrator.Distillation.SoftTargets;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Models;

/// <summary>
/// A teacher trained elsewhere, saved as TorchScript (<c>torch.jit.script(model).save(...)</c>): its forward returns
/// the logits, or a (logits, embedding) tuple, or with <c>stages:</c> named a tuple (logits, embedding, one feature map
/// per stage), which the feature losses compare. Images arrive normalised as this tool normalises them and are
/// re-normalised as the teacher expects (<paramref name="expects"/>) before its forward.
/// </summary>
public sealed class TorchScriptTeacher : Classifier
{
    readonly jit.ScriptModule script;
    readonly Tensor ourMean, ourStd, mean, std;
    readonly List<string> stages;

    /// <param name="ours">How this tool normalised the images (the dataset's training statistics).</param>
    /// <param name="expects">How the teacher was trained to see them (the trial file's <c>normalize:</c>).</param>
    /// <param name="stages">The stages whose maps its forward returns after the embedding, in order; null for none.</param>
    public TorchScriptTeacher(string path, InputNormalisation ours, InputNormalisation expects, Device device, IReadOnlyList<string>? stages = null) : base("torchscript")
    {
        this.stages = stages?.ToList() ?? [];
        script = TorchScriptFiles.Load(TorchScriptFiles.Read(path), path, device);
        script.eval(); // not a registered submodule: TorchSharp's Module.Dispose cannot walk a disposed script's children
        ourMean = PerChannel(ours.Mean, device).to_type(ScalarType.Float64);
        ourStd = PerChannel(ours.Std, device).to_type(ScalarType.Float64);
        mean = PerChannel(expects.Mean, device); // one value for every channel broadcasts
        std = PerChannel(expects.Std, device);
    }

    static Tensor PerChannel(float[] values, Device device) => tensor(values, device: device).view(1, -1, 1, 1);

    /// <summary>
    /// The images as the teacher expects them: back to pixels in [0, 1] in float64 (which rounds to exactly the float
    /// pixels PyTorch would have), then normalised as PyTorch normalises, in float32.
    /// </summary>
    Tensor Renormalise(Tensor images)
    {
        using var pixels = (images.to_type(ScalarType.Float64) * ourStd + ourMean).to_type(ScalarType.Float32);
        return (pixels - mean) / std;
    }

    /// <summary>
    /// A <c>torchscript:</c> teacher entry (its path resolved already): the file's hash, checked against a
    /// <c>sha256</c> pin, and the <c>normalize:</c> it expects. The module is loaded and run on two blank images of
    /// the dataset's shape here, at plan time, so a file that is not TorchScript, or returns the wrong shape or class
    /// count, is reported at its line before any job runs (once per file and dataset: a sweep reads its teacher for every point).
    /// </summary>
    /// <param name="hashOf">The SHA-256 of a file: <see cref="TeacherSource.FileSha256"/>, or a sweep's cache of it.</param>
    public static TeacherSource Read(ConfigMap teacher, string path, DatasetSource dataset, Func<string, string> hashOf)
    {
        if (!File.Exists(path)) throw teacher.Error("torchscript", $"{path} does not exist.");
        var normalize = teacher.Section("normalize") ?? throw teacher.Error("torchscript",
            "say how the teacher expects its input normalised: normalize: { mean: [...], std: [...] } per channel, of pixels in [0, 1] (mean: [0], std: [1] for none).");
        var expects = new InputNormalisation(Floats(normalize, "mean", dataset), Floats(normalize, "std", dataset));
        if (expects.Std.Any(s => s <= 0)) throw normalize.Error("std", "must be positive.");
        normalize.RejectUnknownKeys();
        string hash = teacher.Check("torchscript", () => hashOf(path));
        if (teacher.String("sha256") is { } pinned && !string.Equals(pinned, hash, StringComparison.OrdinalIgnoreCase))
            throw teacher.Error("sha256", $"{path} has sha256 {hash}, not {pinned}: the file is not the pinned teacher. Restore it, or update the pin.");
        var stages = ReadStages(teacher);
        string named = string.Join(",", stages ?? []);
        if (!CheckedOutputs.ContainsKey((hash, dataset.Name, named)))
        {
            teacher.Check(stages is null ? "torchscript" : "stages", () => CheckOutput(path, dataset, stages));
            CheckedOutputs[(hash, dataset.Name, named)] = true;
        }
        return new TeacherSource(path, hash, expects, stages);
    }

    /// <summary>Files (by hash) whose forward already passed <see cref="CheckOutput"/> on a dataset's shape, with these stages named.</summary>
    static readonly System.Collections.Concurrent.ConcurrentDictionary<(string Hash, string Dataset, string Stages), bool> CheckedOutputs = new();

    /// <summary><c>stages:</c> the names of the feature maps its forward returns after the embedding, for feature losses; null without.</summary>
    static IReadOnlyList<string>? ReadStages(ConfigMap teacher)
    {
        var stages = teacher.StringList("stages");
        if (stages is { Count: 0 }) throw teacher.Error("stages", "is empty; name the feature maps the forward returns after the embedding, e.g. stages: [stage1, stage2, stage3].");
        if (stages?.GroupBy(s => s).FirstOrDefault(g => g.Count() > 1) is { } twice) throw teacher.Error("stages", $"names {twice.Key} twice.");
        return stages;
    }

    static float[] Floats(ConfigMap section, string key, DatasetSource dataset)
    {
        var values = section.StringList(key) ?? throw section.Error(key, $"missing; one number per channel ({dataset.Name} has {dataset.Channels}), e.g. {key}: [0.5].");
        if (values.Count != 1 && values.Count != dataset.Channels)
            throw section.Error(key, $"gives {values.Count} numbers; {dataset.Name} has {dataset.Channels} channel(s): give one per channel, or one for all.");
        return values.Select(v => float.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out float f) ? f
            : throw section.Error(key, $"'{v}' is not a number.")).ToArray();
    }

    static void CheckOutput(string path, DatasetSource dataset, IReadOnlyList<string>? stages)
    {
        var identity = new InputNormalisation([0f], [1f]);
        using var teacher = new TorchScriptTeacher(path, identity, identity, CPU, stages);
        TorchScriptFiles.CheckOutput(teacher, path, dataset.Info);
        if (stages is null) return;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var maps = teacher.FeatureMaps(zeros(2, dataset.Info.Channels, dataset.Info.Height, dataset.Info.Width), stages).Maps;
        if (maps.Select((map, i) => (map, i)).FirstOrDefault(m => m.map.dim() != 4 || m.map.shape[0] != 2) is { map: not null } bad)
            throw new UserInputException($"{path}: its {stages[bad.i]} on a batch of 2 images is [{string.Join(", ", bad.map.shape)}]; a feature map must be [batch, channels, height, width].");
    }

    public override (Tensor Logits, Tensor Embedding) Features(Tensor images)
    {
        if (stages.Count > 0)
        {
            var (stagedLogits, stagedEmbedding, _) = FeatureMaps(images, []);
            return (stagedLogits, stagedEmbedding);
        }
        using var input = Renormalise(images);
        var (logits, embedding) = TorchScriptFiles.Outputs(script.call(input), "teacher");
        return (logits, embedding!);
    }

    public override IReadOnlyList<string> Stages => stages;

    public override (Tensor Logits, Tensor Embedding, IReadOnlyList<Tensor> Maps) FeatureMaps(Tensor images, IReadOnlyList<string> asked)
    {
        if (stages.Count == 0) return base.FeatureMaps(images, asked);
        using var input = Renormalise(images);
        var (logits, embedding, maps) = TorchScriptFiles.StagedOutputs(script.call(input), stages, "teacher");
        return (logits, embedding, asked.Select(stage => stages.Contains(stage) ? maps[stages.IndexOf(stage)]
            : throw new ArgumentException($"the TorchScript teacher has no {stage}", nameof(asked))).ToList());
    }

    public override bool Fusable => false;

    public override long ParameterCount => script.parameters().Sum(p => p.numel());

    public override IEnumerable<(string Key, nn.Module Layer)> Layers() =>
        throw new NotSupportedException("a TorchScript teacher is only ever run, never packed or exported");

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            script.Dispose();
            foreach (var statistic in new[] { ourMean, ourStd, mean, std }) statistic.Dispose();
        }
        base.Dispose(disposing);
    }
}
