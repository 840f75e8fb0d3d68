using Orchestrator.Distillation.Models;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.SoftTargets;

/// <summary>The teachers' outputs for one training batch, as the losses read them (one view, or one per teacher for per-teacher).</summary>
public interface ITeacherOutputs : IDisposable
{
    /// <summary>The augmented views the outputs are stored for; null: the outputs are of whatever images the batch holds.</summary>
    AugmentedViews? Views { get; }

    /// <param name="images">The batch's images (of view <c>Views.Of(epoch)</c> when there are views).</param>
    /// <param name="indices">The batch's positions in the training split: the same indices that picked the images.</param>
    /// <param name="epoch">The training epoch (0-based): which view's outputs, when there are views.</param>
    IReadOnlyList<TeacherView> For(Tensor images, Tensor indices, int epoch);
}

/// <summary>Teacher outputs read from a soft-target artifact by sample index (and view): no teacher forward at all.</summary>
/// <param name="train">The training split's outputs, [samples, ...], or [views, samples, ...] with <paramref name="views"/>.</param>
public sealed class CachedTeacherOutputs(IReadOnlyList<TeacherView> train, AugmentedViews? views) : ITeacherOutputs
{
    public AugmentedViews? Views => views;

    public IReadOnlyList<TeacherView> For(Tensor images, Tensor indices, int epoch) =>
        train.Select(v => new TeacherView(Rows(v.Logits, epoch).index_select(0, indices), v.Embedding is { } e ? Rows(e, epoch).index_select(0, indices) : null)).ToList();

    Tensor Rows(Tensor outputs, int epoch) => views is null ? outputs : outputs[views.Of(epoch)];

    public void Dispose()
    {
        foreach (var view in train)
        {
            view.Logits.Dispose();
            view.Embedding?.Dispose();
        }
    }
}

/// <summary>
/// Teacher outputs computed every step by running every teacher on the batch (for augmentation, and to compare
/// with the cache), combined by the same functions as the store.
/// </summary>
/// <param name="stages">The stages whose feature maps the one teacher also gives (feature losses); empty for none.</param>
public sealed class OnlineTeacherOutputs(IReadOnlyList<Classifier> teachers, TeacherEnsemble ensemble, bool embeddings, IReadOnlyList<string>? stages = null)
    : ITeacherOutputs
{
    public AugmentedViews? Views => null;

    public IReadOnlyList<TeacherView> For(Tensor images, Tensor indices, int epoch)
    {
        using var _ = no_grad();
        IReadOnlyList<Tensor> maps = [];
        var members = teachers.Select(t =>
        {
            var (logits, embedding, stageMaps) = t.FeatureMaps(images, stages ?? []);
            maps = stageMaps;
            return new TeacherView(logits, embeddings ? embedding : null);
        }).ToList();
        var views = SoftTargetAggregation.Combine(members, ensemble.Aggregation, ensemble.AggregationTemperature)
            .Select(v => SoftTargetAggregation.ForLoss(v, ensemble.Aggregation, ensemble.AggregationTemperature)).ToList();
        // Feature maps are one teacher's (an ensemble's are refused when the trial is read): its view carries them.
        return maps.Count == 0 ? views : [views.Single() with { Maps = maps }];
    }

    /// <summary>The ensemble's accuracy on a whole split (reported beside the student's).</summary>
    public double Accuracy(Data.ImageSet set, int batchSize)
    {
        using var _ = no_grad();
        long correct = 0;
        for (long start = 0; start < set.Count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            long size = Math.Min(batchSize, set.Count - start);
            var views = For(set.Images.narrow(0, start, size), arange(start, start + size, device: set.Images.device), epoch: 0);
            correct += SoftTargetAggregation.Predictions(views, ensemble.Aggregation).eq(set.Labels.narrow(0, start, size)).sum().item<long>();
        }
        return (double)correct / set.Count;
    }

    public long Parameters => teachers.Sum(t => t.ParameterCount);

    public void Dispose()
    {
        foreach (var teacher in teachers) teacher.Dispose();
    }
}
