using System.Collections.Concurrent;
using Orchestrator.Distillation.Configuration;
using Orchestrator.Distillation.Data;

namespace Orchestrator.Distillation.Models;

/// <summary>
/// Students scripted in PyTorch: <c>model: { torchscript: student.pt }</c> (<see cref="TorchScriptStudent"/>), named by
/// their file, identified by its content. Each trains alone: its layers cannot be fused with others'.
/// </summary>
sealed class TorchScriptFamily : ModelFamily
{
    public override string Summary => "your own student, scripted in PyTorch (torch.jit.script(model).save(path)), trained here from its saved weights, alone";
    public override IEnumerable<string> Patterns => ["{ torchscript: <file.pt> }"];
    public override IEnumerable<string> Examples => [];
    public override int ListOrder => 100;
    public override bool Packs => false;

    public override bool Matches(string name) => false;
    public override bool Matches(ModelSpec spec) => spec.TorchScript is not null;

    public override void Validate(ModelSpec spec)
    {
        if (spec.Dropout is not null)
            throw new UserInputException($"model {spec.TorchScript}: dropout is set in a TorchScript student's own code, not here; remove dropout:.");
    }

    /// <summary>The student in the file the trial read, refused when the file changed since (its hash is the trial's identity).</summary>
    public override Classifier Create(ModelSpec spec, DatasetInfo data)
    {
        string path = spec.TorchScript!;
        if (!File.Exists(path))
            throw new UserInputException($"TorchScript student {path} does not exist (it did when the trial was planned); restore it, or plan the trial again.");
        byte[] module = TorchScriptFiles.Read(path);
        string hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(module));
        if (spec.Sha256 is { } planned && hash != planned)
            throw new UserInputException($"TorchScript student {path} changed since the trial was planned (sha256 {hash}, not {planned}); " +
                                         "restore the file, or plan the trial again: a changed student is a new trial.");
        return new TorchScriptStudent(module, path);
    }

    /// <summary>
    /// A trial's <c>model: { torchscript: path, sha256: pin }</c>: the file hashed and checked against the pin, then run on
    /// two blank images of the dataset's shape, so a file that is not TorchScript or returns the wrong shape is reported
    /// at its line before any job runs (once per file and dataset shape: a sweep reads its student at every point).
    /// Returns the spec and whether the student's forward gives an embedding too.
    /// </summary>
    public static (ModelSpec Spec, bool GivesEmbedding) Read(ConfigMap model, DatasetSource dataset)
    {
        string path = model.PathAt("torchscript")!;
        if (model.Node("name") is not null) throw model.Error("name", "a TorchScript student is named by its file; remove name:.");
        if (!File.Exists(path)) throw model.Error("torchscript", $"{path} does not exist.");
        string hash = model.Check("torchscript", () => FileDigest.Sha256(path));
        if (model.String("sha256") is { } pinned && !string.Equals(pinned, hash, StringComparison.OrdinalIgnoreCase))
            throw model.Error("sha256", $"{path} has sha256 {hash}, not {pinned}: the file is not the pinned student. Restore it, or update the pin.");
        var spec = new ModelSpec(Path.GetFileName(path), model.Double("dropout"), path, hash);
        var info = dataset.Info;
        bool embedding = Checked.TryGetValue((hash, info), out bool known) ? known : Checked[(hash, info)] = model.Check("torchscript", () =>
        {
            using var student = new TorchScriptFamily().Create(spec, info);
            return TorchScriptFiles.CheckOutput(student, path, info);
        });
        return (spec, embedding);
    }

    /// <summary>Files (by hash) whose forward passed the check on a dataset's shape, and whether they give an embedding.</summary>
    static readonly ConcurrentDictionary<(string Hash, DatasetInfo Data), bool> Checked = new();
}
