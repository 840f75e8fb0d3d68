using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace Orchestrator.Distillation.Losses;

/// <summary>
/// The loss functions, one per method, each returning a scalar. Conventions:
/// <list type="bullet">
/// <item>Teacher tensors are targets: they carry no gradient (the teacher is frozen).</item>
/// <item>Batch reductions are means over the batch ("batchmean"), so a loss does not grow with batch size.</item>
/// <item>Temperature-scaled losses are multiplied by T^2 (Hinton et al. 2015), which keeps their gradient
/// magnitude comparable across temperatures and with cross-entropy.</item>
/// </list>
/// Reference values for every function are in tests/Distillation.Tests/reference_losses.py (PyTorch).
/// </summary>
public static class DistillationLosses
{
    /// <summary>Cross-entropy of the student's logits against hard labels, mean over the batch.</summary>
    public static Tensor CrossEntropy(Tensor studentLogits, Tensor labels) => cross_entropy(studentLogits, labels);

    /// <summary>Hinton KD: KL(softmax(t/T) || softmax(s/T)) * T^2, summed over classes, mean over the batch.</summary>
    public static Tensor Hinton(Tensor studentLogits, Tensor teacherLogits, double temperature)
    {
        var teacherLogProbs = log_softmax(teacherLogits / temperature, 1);
        var studentLogProbs = log_softmax(studentLogits / temperature, 1);
        return (teacherLogProbs.exp() * (teacherLogProbs - studentLogProbs)).sum(1).mean() * (temperature * temperature);
    }

    /// <summary>
    /// Soft-target cross-entropy: -sum softmax(t/T) * log softmax(s/T) * T^2, mean over the batch. Equal to
    /// <see cref="Hinton"/> plus the teacher's entropy (a constant), so it has the same gradient but does not reach 0.
    /// </summary>
    public static Tensor SoftCrossEntropy(Tensor studentLogits, Tensor teacherLogits, double temperature)
    {
        var teacherProbs = softmax(teacherLogits / temperature, 1);
        return -(teacherProbs * log_softmax(studentLogits / temperature, 1)).sum(1).mean() * (temperature * temperature);
    }

    /// <summary>Logit matching (Ba &amp; Caruana 2014): mean squared difference over batch and classes.</summary>
    public static Tensor LogitMse(Tensor studentLogits, Tensor teacherLogits) => mse_loss(studentLogits, teacherLogits);

    /// <summary>
    /// Triplet KD: mean over anchors a of max(0, margin + ||t(x_a) - s(x_a)||^2 - ||t(x_a) - s(x_n)||^2), where x_n is
    /// <paramref name="negatives"/>[a], a sample of another class in the batch. Anchors with no negative (-1) count 0
    /// and are left out of the mean.
    /// </summary>
    public static Tensor Triplet(Tensor student, Tensor teacher, Tensor negatives, double margin)
    {
        var valid = negatives.ge(0);
        var negativeStudent = student.index_select(0, negatives.clamp_min(0));
        var positive = (teacher - student).pow(2).sum(1);
        var negative = (teacher - negativeStudent).pow(2).sum(1);
        var perAnchor = relu(positive - negative + margin) * valid.to_type(student.dtype);
        return perAnchor.sum() / valid.sum().clamp_min(1).to_type(student.dtype);
    }

    /// <summary>For each sample, a random index of a sample with another label in the batch, or -1 when there is none.</summary>
    public static Tensor SampleNegatives(Tensor labels, Generator? generator = null)
    {
        long batch = labels.shape[0];
        var sameClass = labels.unsqueeze(1).eq(labels.unsqueeze(0));
        var scores = rand(new[] { batch, batch }, device: labels.device, generator: generator).masked_fill(sameClass, -1);
        var (best, index) = scores.max(1);
        return index.masked_fill(best.lt(0), -1);
    }

    /// <summary>
    /// RKD distance (Park et al. 2019): Huber (smooth L1, beta 1) between the student's and the teacher's pairwise
    /// Euclidean distance matrices, each divided by the mean of its non-zero entries; mean over all B x B pairs.
    /// </summary>
    public static Tensor RkdDistance(Tensor student, Tensor teacher) =>
        smooth_l1_loss(NormalisedDistances(student), NormalisedDistances(teacher.detach()));

    /// <summary>
    /// RKD angle (Park et al. 2019): Huber between the cosines of the angles formed by every triplet (i, j, k) at j,
    /// in student and teacher space; mean over all B x B x B triplets.
    /// </summary>
    public static Tensor RkdAngle(Tensor student, Tensor teacher) =>
        smooth_l1_loss(AngleCosines(student), AngleCosines(teacher.detach()));

    static Tensor NormalisedDistances(Tensor embedding)
    {
        var squared = embedding.pow(2).sum(1);
        var distances = (squared.unsqueeze(1) + squared.unsqueeze(0) - 2 * embedding.matmul(embedding.t())).clamp_min(1e-12).sqrt();
        distances = distances * (1 - eye(embedding.shape[0], dtype: embedding.dtype, device: embedding.device));
        var positive = distances.gt(0);
        var mean = distances.sum() / positive.sum().clamp_min(1).to_type(embedding.dtype);
        return distances / mean;
    }

    static Tensor AngleCosines(Tensor embedding)
    {
        var differences = normalize(embedding.unsqueeze(0) - embedding.unsqueeze(1), p: 2, dim: 2);
        return differences.bmm(differences.transpose(1, 2)).view(-1);
    }
}
