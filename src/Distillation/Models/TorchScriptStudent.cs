using Orchestrator.Distillation.Data;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Models;

/// <summary>
/// A student scripted in PyTorch (<c>torch.jit.script(model).save(path)</c>), trained here from the weights saved in
/// its file: its forward returns the logits, or a (logits, embedding) tuple, for images normalised as this tool
/// normalises them. Its parameters and buffers are the script's own, under PyTorch's state-dict keys, so the optimizer,
/// checkpoints and best weights treat it as any other model. It cannot be fused with others (its layers are not known
/// here), so it always trains as a pack of one (<see cref="UnfusedStudent"/>), and its export is TorchScript again.
/// </summary>
public sealed class TorchScriptStudent : Classifier
{
    /// <summary>Null only while the base constructor runs, which already asks for the parameters.</summary>
    readonly jit.ScriptModule? script;

    /// <param name="module">The file's bytes, checked against the trial's hash already.</param>
    public TorchScriptStudent(byte[] module, string path) : base("torchscript")
    {
        script = TorchScriptFiles.Load(module, path, CPU);
        script.train();
    }

    jit.ScriptModule Script => script!;

    public override bool Fusable => false;

    public override (Tensor Logits, Tensor Embedding) Features(Tensor images)
    {
        var (logits, embedding) = TorchScriptFiles.Outputs(Script.call(images), "student");
        return (logits, embedding!);
    }

    /// <summary>The module with its current weights, in evaluation mode, as <c>torch.jit.load</c> reads it, written whole, then renamed.</summary>
    public void Save(string path)
    {
        bool training = Script.training;
        string staged = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.pt");
        try
        {
            Script.eval();
            jit.save(Script, staged); // libtorch writes only to a path: staged beside the target, then moved whole
            AtomicFile.Write(path, stream => stream.Write(File.ReadAllBytes(staged)));
        }
        finally
        {
            Script.train(training);
            File.Delete(staged);
        }
    }

    public override IEnumerable<(string name, Parameter parameter)> named_parameters(bool recurse = true) => script?.named_parameters(recurse) ?? [];
    public override IEnumerable<Parameter> parameters(bool recurse = true) => script?.parameters(recurse) ?? [];
    public override IEnumerable<(string name, Tensor buffer)> named_buffers(bool recurse = true, bool include_nonpersistent = true) =>
        script?.named_buffers(recurse, include_nonpersistent) ?? [];
    public override Dictionary<string, Tensor> state_dict(Dictionary<string, Tensor>? destination = null, string? prefix = null) => Script.state_dict(destination, prefix);

    public override void train(bool on = true)
    {
        Script.train(on);
        base.train(on);
    }

    public override void eval() => train(false);

    protected override nn.Module _to(DeviceType deviceType, int deviceIndex, bool non_blocking)
    {
        Script.to(deviceType, deviceIndex, non_blocking);
        return this;
    }

    public override IEnumerable<(string Key, nn.Module Layer)> Layers() =>
        throw new NotSupportedException("a TorchScript student's layers are not known here: it trains alone and exports as TorchScript");

    protected override void Dispose(bool disposing)
    {
        if (disposing) script?.Dispose();
        base.Dispose(disposing);
    }
}
