using System.Text.Json;
using Orchestrator.Distillation.Data;

namespace Orchestrator.Distillation.SoftTargets;

/// <summary>
/// A soft-target job of a sweep, as it travels to a node: with <see cref="Member"/> and <see cref="Shard"/> set,
/// one teacher's outputs on one shard; without, the aggregation of every teacher's <see cref="Shards"/> shards.
/// </summary>
public sealed record SoftTargetJob(DataOptions Data, TeacherEnsemble Teachers, bool Embeddings, int Shards, int? Member = null, int? Shard = null)
{
    public string ToJson() => JsonSerializer.Serialize(this);

    public static SoftTargetJob FromJson(string json) =>
        JsonSerializer.Deserialize<SoftTargetJob>(json) ?? throw new InvalidOperationException("empty soft-target job");
}
