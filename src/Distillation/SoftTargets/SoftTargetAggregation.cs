using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace Orchestrator.Distillation.SoftTargets;

/// <summary>A teacher's (or a combined ensemble's) outputs for some samples: logits [N, classes] and, when kept, embeddings [N, E]
/// (with a leading [views] dimension for stored augmented views).</summary>
/// <param name="Maps">The teacher's feature maps [B, C, H, W] at the stages the feature losses compare, online only; empty for none.</param>
public sealed record TeacherView(Tensor Logits, Tensor? Embedding)
{
    public IReadOnlyList<Tensor> Maps { get; init; } = [];
}

/// <summary>
/// Combines the members of an ensemble. The same functions serve the store (on whole splits) and online mode
/// (on each batch), so a cached and an online student see the same targets.
/// </summary>
public static class SoftTargetAggregation
{
    /// <summary>
    /// The stored form: mean-logits averages raw logits; mean-probs stores log(mean_k softmax(l_k / T)), the
    /// log-probabilities of the averaged distribution at T; per-teacher keeps every member. Embeddings of a combined
    /// ensemble are concatenated: members' feature spaces are unrelated, so averaging them would mean nothing.
    /// </summary>
    public static IReadOnlyList<TeacherView> Combine(IReadOnlyList<TeacherView> members, Aggregation aggregation, double temperature)
    {
        if (aggregation == Aggregation.PerTeacher) return members;
        var logits = aggregation == Aggregation.MeanLogits
            ? stack(members.Select(m => m.Logits)).mean([0])
            : stack(members.Select(m => log_softmax(m.Logits / temperature, -1))).logsumexp(0) - Math.Log(members.Count);
        var embedding = members[0].Embedding is null ? null : members.Count == 1 ? members[0].Embedding : cat(members.Select(m => m.Embedding!).ToList(), -1);
        return [new TeacherView(logits, embedding)];
    }

    /// <summary>
    /// What the losses read as teacher logits. For mean-probs, the stored log-probabilities times T: softmax of
    /// that over T gives back the ensemble's probabilities at T exactly (at another loss temperature, a re-tempered
    /// version of them). Raw logits are used as stored, and the loss applies its own temperature.
    /// </summary>
    public static TeacherView ForLoss(TeacherView stored, Aggregation aggregation, double temperature) =>
        aggregation == Aggregation.MeanProbs ? stored with { Logits = stored.Logits * temperature } : stored;

    /// <summary>The ensemble's predicted class per sample: the argmax of its averaged probabilities (at T = 1 for per-teacher).</summary>
    public static Tensor Predictions(IReadOnlyList<TeacherView> stored, Aggregation aggregation) =>
        aggregation == Aggregation.PerTeacher ? Combine(stored, Aggregation.MeanProbs, 1)[0].Logits.argmax(1) : stored[0].Logits.argmax(1);
}
