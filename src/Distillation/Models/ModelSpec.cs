using System.Text.Json.Serialization;

namespace Orchestrator.Distillation.Models;

/// <summary>A model by registry name, with an optional dropout rate that replaces the architecture's default.</summary>
/// <param name="TorchScript">A student scripted in PyTorch (<see cref="TorchScriptStudent"/>): its file, a full path; <paramref name="Name"/> is then the file's name.
/// Null for the registry's architectures, and then left out of a trial's identity, so their identities stay as they were.</param>
/// <param name="Sha256">That file's SHA-256 when the trial was read: a changed file is a new trial, and a trial whose file changed since is refused.</param>
public sealed record ModelSpec(string Name, double? Dropout = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? TorchScript = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Sha256 = null);
