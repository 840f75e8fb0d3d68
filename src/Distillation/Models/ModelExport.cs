using System.Text.Json;
using System.Text.Json.Serialization;
using Orchestrator.Distillation.Data;
using Orchestrator.Distillation.SoftTargets;
using Orchestrator.Distillation.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Models;

/// <summary>
/// One layer of an exported model, as PyTorch builds it: its name within its parent (its state-dict key prefix), its
/// class (torch.nn's, or Branches, ChannelSlice and ChannelShuffle from orchestrator_model.py) with that class's
/// arguments, and for a Sequential or Branches the layers it holds.
/// </summary>
public sealed record ExportedLayer(
    string Name,
    string Type,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Dictionary<string, object>? Arguments,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<ExportedLayer>? Layers = null);

/// <summary>
/// model.json beside model.safetensors: what the weights are (the architecture as a list of torch.nn layers, run in
/// order), what input they expect (size and normalisation) and where they came from.
/// </summary>
/// <param name="TorchScript">For a TorchScript student: its file in the export (model.pt, with the trained weights); its layers are then not listed.</param>
public sealed record ExportedModel(
    int Format,
    string Architecture,
    DatasetInfo Input,
    InputNormalisation Normalize,
    IReadOnlyList<ExportedLayer> Layers,
    string Checkpoint,
    string CheckpointSha256,
    int BestEpoch,
    double BestValidationAccuracy,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull), JsonPropertyName("torchscript")] string? TorchScript = null);

/// <summary>
/// Exports a checkpoint's weights as safetensors (https://github.com/huggingface/safetensors: an 8-byte little-endian
/// header length, a JSON header of name -> dtype, shape and byte range, then the raw tensors) with the names PyTorch's
/// <c>state_dict()</c> gives the same layers, nested as <see cref="ExportedModel.Layers"/> names them; and model.json.
/// examples/pytorch/orchestrator_model.py rebuilds the model from these two files.
/// </summary>
public static class ModelExport
{
    public const string WeightsFile = "model.safetensors", ModelFile = "model.json", TorchScriptFile = "model.pt";
    /// <summary>2: layers nest (Sequential, Branches); 1 listed them flat by dotted name.</summary>
    const int Format = 2;
    static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>
    /// Writes model.safetensors and model.json for <paramref name="checkpoint"/> into <paramref name="directory"/>, and
    /// for a TorchScript student model.pt, the module with the trained weights (each written whole, then renamed).
    /// </summary>
    public static ExportedModel Export(string checkpoint, string directory)
    {
        var state = Checkpoint.ReadState(checkpoint);
        var normalisation = state.Normalisation ?? throw new UserInputException(
            $"{checkpoint} was written before checkpoints recorded how their input is normalised; train it again with this version to export it.");
        using var model = ModelRegistry.Create(state.Model, state.Dataset);
        Checkpoint.LoadModel(checkpoint, model);
        Directory.CreateDirectory(directory);
        WriteSafetensors(Path.Combine(directory, WeightsFile), model.state_dict().Select(p => (p.Key, p.Value)).ToList());
        var script = model as TorchScriptStudent;
        script?.Save(Path.Combine(directory, TorchScriptFile));
        var exported = new ExportedModel(Format, state.Model.Name, state.Dataset, normalisation, script is null ? Describe(model) : [], Path.GetFullPath(checkpoint),
            TeacherSource.FileSha256(checkpoint), state.BestEpoch, state.BestValidationAccuracy, script is null ? null : TorchScriptFile);
        AtomicFile.WriteText(Path.Combine(directory, ModelFile), JsonSerializer.Serialize(exported, JsonOptions) + "\n");
        return exported;
    }

    /// <summary>The model's layers in the order the forward runs them, nested as the model nests them.</summary>
    public static IReadOnlyList<ExportedLayer> Describe(Classifier model) => model.Layers().Select(l => Describe(l.Key, l.Layer)).ToList();

    static ExportedLayer Describe(string name, TorchSharp.torch.nn.Module layer) => layer switch
    {
        Sequential sequence => new ExportedLayer(name, "Sequential", null, sequence.named_children().Select(c => Describe(c.name, c.module)).ToList()),
        Branches branches => new ExportedLayer(name, "Branches", new() { ["merge"] = branches.Merge.ToString().ToLowerInvariant() },
            branches.Paths.Select(p => Describe(p.Name, p.Path)).ToList()),
        Linear linear => new ExportedLayer(name, "Linear", new() { ["in_features"] = linear.weight!.shape[1], ["out_features"] = linear.weight.shape[0] }),
        Conv2d conv => new ExportedLayer(name, "Conv2d", new()
        {
            ["in_channels"] = conv.weight!.shape[1] * conv.groups, ["out_channels"] = conv.weight.shape[0], ["kernel_size"] = conv.weight.shape[2],
            ["stride"] = conv.stride[0], ["padding"] = (conv.padding ?? [0])[0], ["groups"] = conv.groups, ["bias"] = conv.bias is not null,
        }),
        BatchNorm2d norm => new ExportedLayer(name, "BatchNorm2d", new() { ["num_features"] = norm.weight!.shape[0] }),
        MaxPool2d pool => new ExportedLayer(name, "MaxPool2d", new() { ["kernel_size"] = pool.kernel_size[0], ["stride"] = (pool.stride ?? pool.kernel_size)[0] }),
        AvgPool2d pool => new ExportedLayer(name, "AvgPool2d", new()
        {
            ["kernel_size"] = pool.kernel_size[0], ["stride"] = (pool.stride ?? pool.kernel_size)[0], ["padding"] = (pool.padding ?? [0])[0],
        }),
        AdaptiveAvgPool2d pool => new ExportedLayer(name, "AdaptiveAvgPool2d", new() { ["output_size"] = pool.output_size }),
        ChannelSlice slice => new ExportedLayer(name, "ChannelSlice", new() { ["start"] = slice.Start, ["length"] = slice.Length }),
        ChannelShuffle shuffle => new ExportedLayer(name, "ChannelShuffle", new() { ["groups"] = shuffle.Groups }),
        ReLU => new ExportedLayer(name, "ReLU", null),
        Flatten => new ExportedLayer(name, "Flatten", null),
        Dropout => new ExportedLayer(name, "Dropout", null), // identity in evaluation, where an exported model runs
        var other => throw new NotSupportedException($"layer {name} ({other.GetType().Name}) has no PyTorch equivalent in the export"),
    };

    static void WriteSafetensors(string path, IReadOnlyList<(string Name, Tensor Tensor)> tensors)
    {
        using var scope = NewDisposeScope();
        var stored = tensors.Select(t => (t.Name, Tensor: t.Tensor.detach().cpu().contiguous())).ToList();
        var header = TensorFile.SafetensorsHeader(stored.Select(t => (t.Name, t.Tensor.dtype, t.Tensor.shape)), new Dictionary<string, string> { ["format"] = "pt" });
        AtomicFile.Write(path, stream =>
        {
            stream.Write(header);
            foreach (var (_, tensor) in stored) stream.Write(tensor.bytes);
        });
    }
}
