using System.Text.RegularExpressions;
using Orchestrator.Distillation.Data;
using Orchestrator.Distillation.Models;
using Orchestrator.Distillation.SoftTargets;
using Orchestrator.Distillation.Training;
using YamlDotNet.RepresentationModel;

namespace Orchestrator.Distillation.Configuration;

/// <summary>
/// The one reader of a teacher entry's files, in trial and sweep files alike: <c>torchscript</c> (with the
/// <c>normalize</c> it expects), <c>checkpoint</c> (one teacher) or <c>checkpoints</c> (an ensemble), each with
/// optional <c>sha256</c> pins. Paths are relative to the file's folder. The caller rejects the keys it does not read.
/// </summary>
public static partial class TeacherFiles
{
    /// <summary>Whether the entry names a teacher file (otherwise, in a sweep, it is a teacher to train).</summary>
    public static bool NamesFile(ConfigMap entry) =>
        entry.Node("torchscript") is not null || entry.Node("checkpoint") is not null || entry.Node("checkpoints") is not null;

    /// <param name="hashOf">
    /// null to keep a checkpoint's pin for the load to check (a trial file, read again by every node that runs it);
    /// a sweep's file-hash cache to hash each checkpoint now, when the sweep is planned, so its trial ids name the file's content.
    /// TorchScript files are always hashed and run once now: their errors are found at their line.
    /// </param>
    public static List<TeacherSource> Read(ConfigMap entry, DatasetSource dataset, Func<string, string>? hashOf)
    {
        if (entry.String("torchscript") is { } script)
        {
            if (entry.Node("checkpoint") is not null || entry.Node("checkpoints") is not null)
                throw entry.Error("torchscript", "give a torchscript file or checkpoint(s), not both.");
            Pins(entry, 1);
            return [TorchScriptTeacher.Read(entry, entry.PathOf("torchscript", script), dataset, hashOf ?? TeacherSource.FileSha256)];
        }
        string? single = entry.String("checkpoint");
        var list = entry.StringList("checkpoints");
        if (single is not null && list is not null) throw entry.Error("checkpoints", "give checkpoint (one teacher) or checkpoints (an ensemble), not both.");
        var paths = single is not null ? [single] : list ?? throw entry.Error("checkpoint", "missing; e.g. checkpoint: runs/teacher/best.ckpt, or checkpoints: [a/best.ckpt, b/best.ckpt] for an ensemble.");
        if (paths.Count == 0) throw entry.Error("checkpoints", "is empty; list at least one teacher checkpoint.");
        var pins = Pins(entry, paths.Count);
        return paths.Select((p, i) =>
        {
            string key = single is not null ? "checkpoint" : "checkpoints";
            string path = entry.PathOf(key, p);
            string? pin = pins?[i].ToLowerInvariant();
            if (hashOf is null) return new TeacherSource(path, pin);
            if (!File.Exists(path)) throw entry.Error(key, $"teacher checkpoint {path} does not exist.");
            string hash = entry.Check(key, () => hashOf(path)); // refuses what is not a regular file, before it is read
            entry.Check(key, () => Checkpoint.CheckHeader(path));
            if (pin is not null && pin != hash)
                throw entry.Error("sha256", $"{path} has sha256 {hash}, not {pin}: the file is not the pinned teacher. Restore it, or update the pin.");
            return new TeacherSource(path, hash);
        }).ToList();
    }

    /// <summary>sha256: one pin, or a list of them, one per checkpoint in the same order; null when none is given.</summary>
    static IReadOnlyList<string>? Pins(ConfigMap entry, int checkpoints)
    {
        var pins = entry.Node("sha256") switch
        {
            null => null,
            YamlSequenceNode => entry.StringList("sha256"),
            _ => [entry.String("sha256")!],
        };
        if (pins is not null && pins.Count != checkpoints)
            throw entry.Error("sha256", $"gives {pins.Count} hash(es) for {checkpoints} checkpoint(s); give one per checkpoint, in the same order.");
        if (pins?.FirstOrDefault(p => !Sha256Pattern().IsMatch(p)) is { } bad)
            throw entry.Error("sha256", $"'{bad}' is not a SHA-256 (64 hex digits; sha256sum <file> prints it).");
        return pins;
    }

    [GeneratedRegex("^[0-9a-fA-F]{64}$")]
    private static partial Regex Sha256Pattern();
}
