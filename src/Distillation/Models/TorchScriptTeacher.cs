using System.Globalization;
using Orchestrator.Distillation.Configuration;
using Orchestrator.Distillation.Data;
using Orchestrator.Distillation.SoftTargets;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Models;

/// <summary>
/// A teacher trained elsewhere, saved as TorchScript (<c>torch.jit.script(model).save(...)</c>): its forward returns
/// the logits, or a (logits, embedding) tuple. Images arrive normalised as this tool normalises them and are
/// re-normalised as the teacher expects (<paramref name="expects"/>) before its forward.
/// </summary>
public sealed class TorchScriptTeacher : Classifier
{
    readonly jit.ScriptModule script;
    readonly Tensor ourMean, ourStd, mean, std;

    /// <param name="ours">How this tool normalised the images (the dataset's training statistics).</param>
    /// <param name="expects">How the teacher was trained to see them (the trial file's <c>normalize:</c>).</param>
    public TorchScriptTeacher(string path, InputNormalisation ours, InputNormalisation expects, Device device) : base("torchscript")
    {
        script = TorchScriptFiles.Load(File.ReadAllBytes(path), path, device);
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
        if (!CheckedOutputs.ContainsKey((hash, dataset.Name)))
        {
            teacher.Check("torchscript", () => CheckOutput(path, dataset));
            CheckedOutputs[(hash, dataset.Name)] = true;
        }
        return new TeacherSource(path, hash, expects);
    }

    /// <summary>Files (by hash) whose forward already passed <see cref="CheckOutput"/> on a dataset's shape.</summary>
    static readonly System.Collections.Concurrent.ConcurrentDictionary<(string Hash, string Dataset), bool> CheckedOutputs = new();

    static float[] Floats(ConfigMap section, string key, DatasetSource dataset)
    {
        var values = section.StringList(key) ?? throw section.Error(key, $"missing; one number per channel ({dataset.Name} has {dataset.Channels}), e.g. {key}: [0.5].");
        if (values.Count != 1 && values.Count != dataset.Channels)
            throw section.Error(key, $"gives {values.Count} numbers; {dataset.Name} has {dataset.Channels} channel(s): give one per channel, or one for all.");
        return values.Select(v => float.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out float f) ? f
            : throw section.Error(key, $"'{v}' is not a number.")).ToArray();
    }

    static void CheckOutput(string path, DatasetSource dataset)
    {
        var identity = new InputNormalisation([0f], [1f]);
        using var teacher = new TorchScriptTeacher(path, identity, identity, CPU);
        TorchScriptFiles.CheckOutput(teacher, path, dataset.Info);
    }

    public override (Tensor Logits, Tensor Embedding) Features(Tensor images)
    {
        using var input = Renormalise(images);
        var (logits, embedding) = TorchScriptFiles.Outputs(script.call(input), "teacher");
        return (logits, embedding!);
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
