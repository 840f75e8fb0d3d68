namespace Orchestrator.Distillation.Models;

/// <summary>A model by registry name, with an optional dropout rate that replaces the architecture's default.</summary>
public sealed record ModelSpec(string Name, double? Dropout = null);
