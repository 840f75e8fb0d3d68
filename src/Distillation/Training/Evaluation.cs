using Orchestrator.Distillation.Data;
using Orchestrator.Distillation.Models;
using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace Orchestrator.Distillation.Training;

public static class Evaluation
{
    /// <summary>Mean cross-entropy and accuracy of <paramref name="model"/> on every sample of <paramref name="set"/>, in evaluation mode.</summary>
    public static (double Loss, double Accuracy) Evaluate(Classifier model, ImageSet set, int batchSize)
    {
        bool wasTraining = model.training;
        model.eval();
        using var _ = no_grad();
        using var lossSum = zeros(1, device: set.Images.device);
        using var correct = zeros(1, ScalarType.Int64, set.Images.device);
        for (long start = 0; start < set.Count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            long size = Math.Min(batchSize, set.Count - start);
            var logits = model.forward(set.Images.narrow(0, start, size));
            var labels = set.Labels.narrow(0, start, size);
            lossSum.add_(cross_entropy(logits, labels, reduction: nn.Reduction.Sum));
            correct.add_(logits.argmax(1).eq(labels).sum());
        }
        model.train(wasTraining);
        return (lossSum.item<float>() / set.Count, (double)correct.item<long>() / set.Count);
    }
}
