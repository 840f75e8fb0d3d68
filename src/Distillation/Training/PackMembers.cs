using Orchestrator.Distillation.Losses;
using Orchestrator.Distillation.Models;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Training;

/// <summary>
/// The trials still training in a pack, in pack order, with the pack's model, optimizer and loss and the epoch's running
/// sums ([K] each); <see cref="Keep"/> drops the trials that ended from all of them at once.
/// </summary>
sealed class PackMembers(List<TrialRun> runs, IStudentPack pack, PackedOptimizer optimizer, PackedLoss loss)
{
    Tensor? lossSum, correct;
    Dictionary<string, Tensor> termSums = [];

    public IReadOnlyList<TrialRun> Runs => runs;
    public int Count => runs.Count;
    public IStudentPack Pack => pack;
    public PackedOptimizer Optimizer => optimizer;
    public PackedLoss Loss => loss;

    /// <summary>Keeps the trials at these positions, in this order; nothing changes when that is all of them.</summary>
    public void Keep(IReadOnlyList<int> positions)
    {
        if (positions.Count == runs.Count) return;
        var kept = positions.Select(k => runs[k]).ToList();
        runs.Clear();
        runs.AddRange(kept);
        if (kept.Count == 0) return;
        pack.Keep(positions);
        optimizer.Keep(pack, positions);
        loss.Keep(positions);
        using var index = tensor(positions.Select(k => (long)k).ToArray(), device: lossSum?.device ?? CPU);
        if (lossSum is not null) lossSum = Replace(lossSum, lossSum.index_select(0, index));
        if (correct is not null) correct = Replace(correct, correct.index_select(0, index));
        termSums = termSums.ToDictionary(t => t.Key, t => Replace(t.Value, t.Value.index_select(0, index)));
    }

    public void StartSums(Device device)
    {
        lossSum = zeros(Count, device: device);
        correct = zeros(Count, ScalarType.Int64, device);
        termSums = loss.Terms.ToDictionary(t => t, _ => zeros(Count, device: device));
    }

    /// <summary>Adds one batch's per-trial totals and terms (weighted by the batch size) and correct predictions.</summary>
    public void Add(Tensor total, Dictionary<string, Tensor> terms, Tensor logits, Tensor labels, long size)
    {
        using var _ = no_grad();
        lossSum!.add_(total * size);
        foreach (var (name, value) in terms) termSums[name].add_(value * size);
        correct!.add_(logits.argmax(-1).eq(labels).sum(-1));
    }

    /// <summary>Each trial's mean loss and mean terms over <paramref name="count"/> samples, and its accuracy over the <paramref name="labelled"/> of them that had labels.</summary>
    public IReadOnlyList<(double Loss, Dictionary<string, double> Terms, double Accuracy)> Means(long count, long labelled)
    {
        using var scope = NewDisposeScope(); // the copies to the host, once per epoch
        var losses = lossSum!.cpu().data<float>().ToArray();
        var hits = correct!.cpu().data<long>().ToArray();
        var terms = termSums.ToDictionary(t => t.Key, t => t.Value.cpu().data<float>().ToArray());
        return Enumerable.Range(0, Count).Select(k =>
            ((double)losses[k] / count, terms.ToDictionary(t => t.Key, t => (double)t.Value[k] / count), (double)hits[k] / labelled)).ToList();
    }

    /// <summary>Frees the epoch's sums and the trials' generators.</summary>
    public void EndEpoch()
    {
        lossSum?.Dispose();
        correct?.Dispose();
        foreach (var sum in termSums.Values) sum.Dispose();
        (lossSum, correct, termSums) = (null, null, []);
        foreach (var generator in pack.Generators) generator?.Dispose();
    }

    static Tensor Replace(Tensor old, Tensor kept)
    {
        old.Dispose();
        return kept;
    }
}
