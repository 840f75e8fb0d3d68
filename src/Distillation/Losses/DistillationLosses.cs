using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace Orchestrator.Distillation.Losses;

/// <summary>
/// The loss functions, one per method. Shapes: a student's tensors are [..., B, C] (leading dimensions are the trials of
/// a pack, none for one model); the teacher's are [B, C] (one teacher for every trial) or the student's shape; every
/// function returns one value per trial, [...] (a scalar for one model); temperatures and margins are tensors of that
/// shape (a double converts to a scalar, computed in the student's precision). Conventions:
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
    /// <summary>Cross-entropy of the student's logits against hard labels [B], mean over the batch.</summary>
    public static Tensor CrossEntropy(Tensor studentLogits, Tensor labels) => CrossEntropyPerSample(studentLogits, labels).mean([-1]);

    /// <summary>
    /// Cross-entropy over the batch's labelled samples only (a label of <see cref="Data.LabelBudget.Hidden"/> is left out),
    /// mean over them; 0 for a batch without one. What a label budget trains on: the unlabelled rest reaches the student
    /// through the distillation terms alone.
    /// </summary>
    public static Tensor CrossEntropyOnLabelled(Tensor studentLogits, Tensor labels)
    {
        var known = labels.ge(0);
        var perSample = CrossEntropyPerSample(studentLogits, labels.clamp_min(0));
        return (perSample * known.to_type(perSample.dtype)).sum([-1]) / known.sum().clamp_min(1).to_type(perSample.dtype);
    }

    /// <summary>-log softmax(logits)[label] for each sample, [..., B]: the logits may carry leading trial dimensions the labels lack.</summary>
    static Tensor CrossEntropyPerSample(Tensor studentLogits, Tensor labels)
    {
        var targets = labels.expand(studentLogits.shape[..^1]).unsqueeze(-1);
        return -log_softmax(studentLogits, -1).gather(-1, targets).squeeze(-1);
    }

    /// <summary>Hinton KD: KL(softmax(t/T) || softmax(s/T)) * T^2, summed over classes, mean over the batch.</summary>
    public static Tensor Hinton(Tensor studentLogits, Tensor teacherLogits, Tensor temperature)
    {
        temperature = temperature.to_type(studentLogits.dtype);
        var perSample = PerSample(temperature);
        var teacherLogProbs = log_softmax(teacherLogits / perSample, -1);
        var studentLogProbs = log_softmax(studentLogits / perSample, -1);
        return (teacherLogProbs.exp() * (teacherLogProbs - studentLogProbs)).sum(-1).mean([-1]) * temperature.square();
    }

    /// <summary>
    /// Soft-target cross-entropy: -sum softmax(t/T) * log softmax(s/T) * T^2, mean over the batch. Equal to
    /// <see cref="Hinton"/> plus the teacher's entropy (a constant), so it has the same gradient but does not reach 0.
    /// </summary>
    public static Tensor SoftCrossEntropy(Tensor studentLogits, Tensor teacherLogits, Tensor temperature)
    {
        temperature = temperature.to_type(studentLogits.dtype);
        var perSample = PerSample(temperature);
        var teacherProbs = softmax(teacherLogits / perSample, -1);
        return -(teacherProbs * log_softmax(studentLogits / perSample, -1)).sum(-1).mean([-1]) * temperature.square();
    }

    /// <summary>Logit matching (Ba &amp; Caruana 2014): mean squared difference over batch and classes.</summary>
    public static Tensor LogitMse(Tensor studentLogits, Tensor teacherLogits) => (studentLogits - teacherLogits).square().flatten(-2).mean([-1]);

    /// <summary>
    /// Triplet KD: mean over anchors a of max(0, margin + ||t(x_a) - s(x_a)||^2 - ||t(x_a) - s(x_n)||^2), where x_n is
    /// <paramref name="negatives"/>[..., a] (one draw per trial, [..., B]), a sample of another class in the batch.
    /// Anchors with no negative (-1) count 0 and are left out of the mean.
    /// </summary>
    public static Tensor Triplet(Tensor student, Tensor teacher, Tensor negatives, Tensor margin)
    {
        var valid = negatives.ge(0);
        var negativeStudent = student.gather(-2, negatives.clamp_min(0).unsqueeze(-1).expand(student.shape));
        var positive = (teacher - student).square().sum(-1);
        var negative = (teacher - negativeStudent).square().sum(-1);
        var perAnchor = relu(positive - negative + margin.to_type(student.dtype).unsqueeze(-1)) * valid.to_type(student.dtype);
        return perAnchor.sum(-1) / valid.sum(-1).clamp_min(1).to_type(student.dtype);
    }

    /// <summary>
    /// Decoupled KD (Zhao et al. 2022): alpha * TCKD + beta * NCKD, each a KL divergence at temperature T times T^2, mean
    /// over the batch. TCKD compares the binary distributions (p of the target class, p of all others); NCKD compares the
    /// distributions over the non-target classes alone. Computed from log-sum-exps over the target and the other classes
    /// gathered apart, so a near-certain teacher (a target probability of 1 in float) gives no infinities, where
    /// mdistiller's log(p) and -1000 mask would. <paramref name="classes"/> [B] is each sample's target class.
    /// </summary>
    public static Tensor Dkd(Tensor studentLogits, Tensor teacherLogits, Tensor classes, Tensor temperature, Tensor alpha, Tensor beta)
    {
        temperature = temperature.to_type(studentLogits.dtype);
        var perSample = PerSample(temperature);
        var student = studentLogits / perSample;
        var teacher = (teacherLogits / perSample).expand(student.shape);
        long count = student.shape[^1];
        var target = classes.unsqueeze(-1);
        // Each sample's other classes in order, [B, C - 1], gathered out of every trial's rows.
        var others = arange(count, device: classes.device).expand(classes.shape[0], count).masked_select(one_hot(classes, count).eq(0)).view(-1, count - 1);
        var (studentTarget, studentOthers) = TargetAndOthers(student, target, others);
        var (teacherTarget, teacherOthers) = TargetAndOthers(teacher, target, others);
        var binary = KlDivergence(stack([teacherTarget.LogP, teacherTarget.LogRest], -1), stack([studentTarget.LogP, studentTarget.LogRest], -1));
        var nonTarget = KlDivergence(log_softmax(teacherOthers, -1), log_softmax(studentOthers, -1));
        var scale = temperature.square();
        return (alpha.to_type(student.dtype) * binary + beta.to_type(student.dtype) * nonTarget) * scale;
    }

    /// <summary>log p(target) and log (1 - p(target)) [..., B], and the other classes' logits [..., B, C - 1].</summary>
    static ((Tensor LogP, Tensor LogRest), Tensor Others) TargetAndOthers(Tensor logits, Tensor target, Tensor others)
    {
        var all = logits.logsumexp(-1);
        var otherLogits = logits.gather(-1, others.expand(logits.shape[..^1].Append(others.shape[^1]).ToArray()));
        var targetLogit = logits.gather(-1, target.expand(logits.shape[..^1].Append(1L).ToArray())).squeeze(-1);
        return ((targetLogit - all, otherLogits.logsumexp(-1) - all), otherLogits);
    }

    /// <summary>KL(p || q) summed over the last dimension, mean over the batch, from log-probabilities; the teacher's side carries no gradient.</summary>
    static Tensor KlDivergence(Tensor teacherLogProbs, Tensor studentLogProbs)
    {
        var teacher = teacherLogProbs.detach();
        return (teacher.exp() * (teacher - studentLogProbs)).sum(-1).mean([-1]);
    }

    /// <summary>
    /// DIST (Huang et al. 2022), as its authors' code computes it: with y = softmax(z / T), beta times the inter-class
    /// relation (1 - the Pearson correlation between student and teacher over each sample's classes, mean over samples)
    /// plus gamma times the intra-class relation (the same over the batch, for each class), times T^2.
    /// </summary>
    public static Tensor Dist(Tensor studentLogits, Tensor teacherLogits, Tensor temperature, Tensor beta, Tensor gamma)
    {
        temperature = temperature.to_type(studentLogits.dtype);
        var perSample = PerSample(temperature);
        var student = softmax(studentLogits / perSample, -1);
        var teacher = softmax(teacherLogits.detach() / perSample, -1).expand(student.shape);
        var inter = 1 - Pearson(student, teacher, dimension: -1).mean([-1]);
        var intra = 1 - Pearson(student, teacher, dimension: -2).mean([-1]);
        return (beta.to_type(student.dtype) * inter + gamma.to_type(student.dtype) * intra) * temperature.square();
    }

    /// <summary>The Pearson correlation of a and b along <paramref name="dimension"/>, with the authors' 1e-8 in the denominator.</summary>
    static Tensor Pearson(Tensor a, Tensor b, long dimension)
    {
        a = a - a.mean([dimension], keepdim: true);
        b = b - b.mean([dimension], keepdim: true);
        return (a * b).sum(dimension) / (a.square().sum(dimension).sqrt() * b.square().sum(dimension).sqrt() + 1e-8);
    }

    /// <summary>
    /// Attention transfer (Zagoruyko &amp; Komodakis 2017), as CRD's code computes it: at each stage, the spatial attention
    /// map a(F) = normalize(mean over channels of F^2, flattened), and the mean over the batch and positions of
    /// (a(student) - a(teacher))^2; summed over the stages. Where the maps' sizes differ, the larger is average-pooled to
    /// the smaller. Student maps are [..., B, C, H, W] (leading trial dimensions), the teacher's [B, C', H', W'].
    /// </summary>
    public static Tensor AttentionTransfer(IReadOnlyList<Tensor> studentMaps, IReadOnlyList<Tensor> teacherMaps)
    {
        Tensor? total = null;
        foreach (var (student, teacher) in studentMaps.Zip(teacherMaps))
        {
            long side = Math.Min(student.shape[^1], teacher.shape[^1]);
            var difference = Attention(Pooled(student, side)) - Attention(Pooled(teacher.detach(), side));
            var stage = difference.square().flatten(-2).mean([-1]);
            total = total is null ? stage : total + stage;
        }
        return total ?? throw new ArgumentException("attention transfer needs at least one stage", nameof(studentMaps));
    }

    /// <summary>
    /// FitNets' hint loss (Romero et al. 2015), as CRD's and mdistiller's code computes it: at each stage, the mean over
    /// the batch, channels and positions of (r(student) - teacher)^2, r the learned regressor already applied; summed
    /// over the stages. Where the maps' sizes differ, the larger is average-pooled to the smaller (CRD's regressor strides
    /// instead). Regressed student maps are [..., B, C, H, W] (leading trial dimensions), the teacher's [B, C, H', W'].
    /// </summary>
    public static Tensor Hint(IReadOnlyList<Tensor> regressedMaps, IReadOnlyList<Tensor> teacherMaps)
    {
        Tensor? total = null;
        foreach (var (student, teacher) in regressedMaps.Zip(teacherMaps))
        {
            long side = Math.Min(student.shape[^1], teacher.shape[^1]);
            var stage = (Pooled(student, side) - Pooled(teacher.detach(), side)).square().flatten(-4).mean([-1]);
            total = total is null ? stage : total + stage;
        }
        return total ?? throw new ArgumentException("the hint loss needs at least one stage", nameof(regressedMaps));
    }

    /// <summary>[..., C, H, W] to [..., H * W]: the channels' mean of squares, L2-normalised over the positions (eps 1e-12, as F.normalize).</summary>
    static Tensor Attention(Tensor map) => normalize(map.square().mean([-3]).flatten(-2), p: 2, dim: -1);

    /// <summary>The map average-pooled to side x side when it is larger, over any leading dimensions.</summary>
    static Tensor Pooled(Tensor map, long side) => map.shape[^1] == side && map.shape[^2] == side ? map
        : adaptive_avg_pool2d(map.flatten(0, -4), [side, side]).unflatten(0, map.shape[..^3]);

    /// <summary>
    /// Logit standardisation (Sun et al. 2024): each sample's logits z-scored over its classes, (z - mean) / (std + 1e-7)
    /// with the unbiased std, as the authors' code does, before the temperature divides them.
    /// </summary>
    public static Tensor Standardize(Tensor logits) =>
        (logits - logits.mean([-1], keepdim: true)) / (logits.std(-1, unbiased: true, keepdim: true) + 1e-7);

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
    public static Tensor RkdDistance(Tensor student, Tensor teacher) => MeanHuber(NormalisedDistances(student), NormalisedDistances(teacher.detach()));

    /// <summary>
    /// RKD angle (Park et al. 2019): Huber between the cosines of the angles formed by every triplet (i, j, k) at j,
    /// in student and teacher space; mean over all B x B x B triplets.
    /// </summary>
    public static Tensor RkdAngle(Tensor student, Tensor teacher) => MeanHuber(AngleCosines(student), AngleCosines(teacher.detach()));

    /// <summary>A per-trial value [...] shaped to divide per-sample rows [..., B, C].</summary>
    static Tensor PerSample(Tensor perTrial) => perTrial.unsqueeze(-1).unsqueeze(-1);

    /// <summary>Huber over the last dimension, mean; a shared teacher's [N] meets every trial's [..., N].</summary>
    static Tensor MeanHuber(Tensor student, Tensor teacher) => smooth_l1_loss(student, teacher.expand(student.shape), nn.Reduction.None).mean([-1]);

    /// <summary>[..., B, F] to [..., B*B]: pairwise distances over their mean off the diagonal.</summary>
    static Tensor NormalisedDistances(Tensor embedding)
    {
        long batch = embedding.shape[^2];
        var squared = embedding.square().sum(-1);
        var distances = (squared.unsqueeze(-1) + squared.unsqueeze(-2) - 2 * embedding.matmul(embedding.transpose(-1, -2))).clamp_min(1e-12).sqrt();
        distances = (distances * (1 - eye(batch, dtype: embedding.dtype, device: embedding.device))).flatten(-2);
        var mean = distances.sum(-1) / distances.gt(0).sum(-1).clamp_min(1).to_type(embedding.dtype);
        return distances / mean.unsqueeze(-1);
    }

    /// <summary>[..., B, F] to [..., B*B*B]: the cosine at j of every triplet (i, j, k).</summary>
    static Tensor AngleCosines(Tensor embedding)
    {
        var differences = normalize(embedding.unsqueeze(-3) - embedding.unsqueeze(-2), p: 2, dim: -1);
        return differences.matmul(differences.transpose(-1, -2)).flatten(-3);
    }
}
