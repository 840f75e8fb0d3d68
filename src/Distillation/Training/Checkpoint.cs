using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Orchestrator.Distillation.Data;
using Orchestrator.Distillation.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Training;

/// <summary>Everything besides tensors that a checkpoint holds: enough to rebuild the model and to resume training.</summary>
/// <param name="Normalisation">How the training data was normalised; null in checkpoints written before it was recorded.</param>
/// <param name="WeightsSha256">The SHA-256 of the model's weights as saved (set by <see cref="Checkpoint.Save"/>): a teacher's identity,
/// the same for the same training, which the file's own hash is not (the history records seconds). Null in older checkpoints.</param>
public sealed record CheckpointState(
    ModelSpec Model,
    DatasetInfo Dataset,
    string ConfigurationHash,
    int EpochsDone,
    int BestEpoch,
    double BestValidationAccuracy,
    int EpochsWithoutImprovement,
    IReadOnlyList<EpochMetrics> History,
    InputNormalisation? Normalisation = null,
    string? WeightsSha256 = null)
{
    /// <summary>
    /// Whether an epoch's validation result beats the best so far: a higher accuracy, or the same accuracy at a lower
    /// loss (a teacher at 100 % validation accuracy from epoch 3 of 400 must not keep its barely trained epoch 3).
    /// </summary>
    public bool Improves(double accuracy, double loss) =>
        accuracy > BestValidationAccuracy
        || (accuracy == BestValidationAccuracy && BestEpoch > 0 && BestEpoch <= History.Count && loss < History[BestEpoch - 1].ValidationLoss);
}

/// <summary>
/// Checkpoint files: "ORCKPT1\n", a length-prefixed JSON <see cref="CheckpointState"/>, the model's state dict, the
/// optimizer's state when present, and a SHA-256 of all that, verified on load. Written to a temporary file,
/// flushed to disk and renamed, so a crash never leaves a half-written checkpoint under the real name.
/// </summary>
public static class Checkpoint
{
    static readonly byte[] Magic = "ORCKPT1\n"u8.ToArray();
    const int HashLength = 32;

    /// <param name="beforeReplace">Runs just before the new file replaces the old (<see cref="AttemptFence.Check"/>); throwing keeps the old.</param>
    public static void Save(string path, CheckpointState state, nn.Module model, OptimizerHelper? optimizer, Action? beforeReplace = null)
    {
        using var weights = new MemoryStream();
        using (var writer = new BinaryWriter(weights, Encoding.UTF8, leaveOpen: true)) model.save(writer);
        var weightBytes = weights.GetBuffer().AsSpan(0, (int)weights.Length);
        state = state with { WeightsSha256 = Convert.ToHexStringLower(SHA256.HashData(weightBytes)) };
        using var payload = new MemoryStream();
        using (var writer = new BinaryWriter(payload, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Magic);
            byte[] json = JsonSerializer.SerializeToUtf8Bytes(state);
            writer.Write(json.Length);
            writer.Write(json);
            writer.Write(weightBytes);
            writer.Write(optimizer is not null);
            optimizer?.save_state_dict(writer);
        }
        byte[] hash = SHA256.HashData(payload.GetBuffer().AsSpan(0, (int)payload.Length));
        AtomicFile.Write(path, stream =>
        {
            stream.Write(payload.GetBuffer(), 0, (int)payload.Length);
            stream.Write(hash);
        }, beforeReplace);
    }

    /// <summary>
    /// Throws unless the file starts as an orchestrator checkpoint does: what a sweep checks when it is planned, reading
    /// a few bytes (the whole file is verified where it is loaded), so that a file of another kind is refused at its line.
    /// </summary>
    public static void CheckHeader(string path)
    {
        var start = new byte[Magic.Length];
        using (var file = File.OpenRead(path)) file.ReadAtLeast(start, start.Length, throwOnEndOfStream: false);
        if (!start.AsSpan().SequenceEqual(Magic))
            throw new UserInputException($"{path} is not an orchestrator checkpoint (wrong header); name a best.ckpt or last.ckpt a trial wrote, or a TorchScript file as torchscript:.");
    }

    /// <summary>Reads the state only (no tensors), after verifying the file's checksum.</summary>
    public static CheckpointState ReadState(string path)
    {
        using var reader = OpenVerified(path);
        return ReadHeader(reader, path);
    }

    /// <summary>Loads weights into <paramref name="model"/> (and optimizer state, when both have it) and returns the state.</summary>
    public static CheckpointState Load(string path, nn.Module model, OptimizerHelper? optimizer = null)
    {
        using var reader = OpenVerified(path);
        var state = ReadHeader(reader, path);
        model.load(reader);
        if (reader.ReadBoolean() && optimizer is not null)
            optimizer.load_state_dict(reader);
        return state;
    }

    /// <summary>
    /// Loads the trained model alone into <paramref name="model"/> (a teacher, an export): what only training used, a
    /// <see cref="HintRegressor"/>, stays in the file. Every weight and buffer of the model must be there.
    /// </summary>
    public static CheckpointState LoadModel(string path, nn.Module model)
    {
        using var reader = OpenVerified(path);
        var state = ReadHeader(reader, path);
        var loaded = new Dictionary<string, bool>();
        model.load(reader, strict: false, loadedParameters: loaded);
        if (model.state_dict().Keys.FirstOrDefault(key => !loaded.ContainsKey(key)) is { } missing)
            throw new UserInputException($"{path} has no {missing} for its {state.Model.Name}; the checkpoint was written by another version of its model.");
        return state;
    }

    static BinaryReader OpenVerified(string path)
    {
        if (!File.Exists(path)) throw new UserInputException($"checkpoint {path} does not exist.");
        if (new FileInfo(path).Length >= Array.MaxLength) throw new UserInputException($"{path} is 2 GB or larger, more than a checkpoint this tool writes; is it the right file?");
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length < Magic.Length + HashLength || !bytes.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            throw new UserInputException($"{path} is not an orchestrator checkpoint (wrong header).");
        var body = bytes.AsSpan(0, bytes.Length - HashLength);
        if (!SHA256.HashData(body).AsSpan().SequenceEqual(bytes.AsSpan(bytes.Length - HashLength)))
            throw new UserInputException($"{path}: checksum mismatch; the checkpoint is truncated or corrupt. Delete it to retrain.");
        return new BinaryReader(new MemoryStream(bytes, 0, body.Length, writable: false), Encoding.UTF8);
    }

    static CheckpointState ReadHeader(BinaryReader reader, string path)
    {
        reader.ReadBytes(Magic.Length);
        int length = reader.ReadInt32();
        return JsonSerializer.Deserialize<CheckpointState>(reader.ReadBytes(length))
            ?? throw new UserInputException($"{path}: empty checkpoint state.");
    }
}
