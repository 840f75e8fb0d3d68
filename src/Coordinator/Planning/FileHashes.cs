using Orchestrator.Distillation.SoftTargets;

namespace Orchestrator.Coordinator.Planning;

/// <summary>The SHA-256 of each teacher file a sweep names, computed once per sweep: a checkpoint can be gigabytes.</summary>
public sealed class FileHashes
{
    readonly Dictionary<string, string> known = [];

    public string Of(string path) => known.TryGetValue(path, out var hash) ? hash : known[path] = TeacherSource.FileSha256(path);
}
