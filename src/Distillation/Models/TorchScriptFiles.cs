using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Orchestrator.Distillation.Data;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Models;

/// <summary>
/// What TorchScript teachers and students share: loading a file saved by <c>torch.jit.script(model).save(path)</c> with
/// an error that says how to make one, reading its forward's output (the logits, or a (logits, embedding) tuple), and
/// checking that output on the dataset's shape before any job runs.
/// </summary>
static class TorchScriptFiles
{
    /// <summary>Loads a module from its file's bytes (already read, so that what runs is what was hashed), on <paramref name="device"/>.</summary>
    /// <summary>The file's bytes, for <see cref="Load"/>: a file too large to be a module this tool loads whole (2 GB and more) is bad input, named.</summary>
    public static byte[] Read(string path)
    {
        long length = new FileInfo(path).Length;
        if (length >= Array.MaxLength)
            throw new UserInputException($"{path} is {length:N0} bytes, larger than the TorchScript modules this tool loads (under 2 GB); is it the right file?");
        return File.ReadAllBytes(path);
    }

    public static jit.ScriptModule Load(byte[] module, string path, Device device)
    {
        try { return jit.load(module, device.type, device.index); }
        catch (Exception e) when (e is ExternalException or ArgumentException or IOException)
        {
            throw new UserInputException($"{path} is not a TorchScript module ({FirstLine(e.Message)}); save it with torch.jit.script(model).save(path) or torch.jit.trace(model, example).save(path).");
        }
    }

    static string FirstLine(string message) => message.Split('\n', 2)[0].Trim();

    /// <summary>The logits and, when the forward returns a pair, the embedding (else null).</summary>
    public static (Tensor Logits, Tensor? Embedding) Outputs(object? output, string role) => output switch
    {
        Tensor logits => (logits, null),
        ITuple { Length: 2 } pair when pair[0] is Tensor logits && pair[1] is Tensor embedding => (logits, embedding),
        _ => throw new UserInputException($"the TorchScript {role}'s forward returned {Describe(output)}; it must return the logits, or a (logits, embedding) tuple" +
                                          (role == "teacher" ? " (a teacher that returns feature maps after them names their stages: stages: [stage1, stage2, ...])." : ".")),
    };

    /// <summary>
    /// The outputs of a forward that also returns the feature maps of <paramref name="stages"/>: a tuple (logits,
    /// embedding, one map per stage, in their order).
    /// </summary>
    public static (Tensor Logits, Tensor Embedding, IReadOnlyList<Tensor> Maps) StagedOutputs(object? output, IReadOnlyList<string> stages, string role)
    {
        if (output is ITuple tuple && tuple.Length == 2 + stages.Count && Enumerable.Range(0, tuple.Length).All(i => tuple[i] is Tensor))
            return ((Tensor)tuple[0]!, (Tensor)tuple[1]!, Enumerable.Range(2, stages.Count).Select(i => (Tensor)tuple[i]!).ToList());
        throw new UserInputException($"the TorchScript {role}'s forward returned {Describe(output)}; with stages: [{string.Join(", ", stages)}] it must return " +
                                     $"a tuple (logits, embedding, {string.Join(", ", stages)}): the feature maps [batch, channels, height, width] in that order.");
    }

    static string Describe(object? output) => output switch
    {
        null => "nothing",
        ITuple items => $"a tuple of {items.Length}: ({string.Join(", ", Enumerable.Range(0, items.Length).Select(i => Describe(items[i])))})",
        Tensor t => $"a tensor [{string.Join(", ", t.shape)}]",
        var other => other.GetType().Name,
    };

    /// <summary>
    /// Runs <paramref name="model"/> in evaluation on two blank images of the dataset's shape: its logits must be
    /// [2, classes]. Returns whether it gives an embedding too.
    /// </summary>
    public static bool CheckOutput(Classifier model, string path, DatasetInfo dataset)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        model.eval();
        var (logits, embedding) = model.Features(zeros(2, dataset.Channels, dataset.Height, dataset.Width));
        if (logits.dim() != 2 || logits.shape[0] != 2)
            throw new UserInputException($"{path}: on a batch of 2 {dataset.Name} images [2, {dataset.Channels}, {dataset.Height}, {dataset.Width}] its forward returned " +
                                         $"[{string.Join(", ", logits.shape)}]; it must return logits [batch, classes].");
        if (logits.shape[1] != dataset.Classes)
            throw new UserInputException($"{path} returns {logits.shape[1]} logits per image; {dataset.Name} has {dataset.Classes} classes.");
        if (embedding is not null && (embedding.dim() != 2 || embedding.shape[0] != 2))
            throw new UserInputException($"{path}: its embedding on a batch of 2 images is [{string.Join(", ", embedding.shape)}]; it must be [batch, width].");
        return embedding is not null;
    }
}
