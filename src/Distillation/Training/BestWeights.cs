using Orchestrator.Distillation.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Training;

/// <summary>A copy of the weights (parameters and buffers) of the best epoch so far, on the training device.</summary>
sealed class BestWeights(Classifier model) : IDisposable
{
    Dictionary<string, Tensor> weights = Copy(model);

    public void Capture(Classifier source)
    {
        Dispose();
        weights = Copy(source);
    }

    public void Restore(Classifier target) => target.load_state_dict(weights);

    /// <summary>Loads best.ckpt through the model itself, then puts the model back to last.ckpt's state.</summary>
    public void LoadFrom(string bestPath, Classifier target, string lastPath, OptimizerHelper optimizer)
    {
        Checkpoint.Load(bestPath, target);
        Capture(target);
        Checkpoint.Load(lastPath, target, optimizer);
    }

    static Dictionary<string, Tensor> Copy(Classifier source)
    {
        using var _ = no_grad();
        return source.state_dict().ToDictionary(p => p.Key, p =>
        {
            using var detached = p.Value.detach(); // a view of the model's own tensor: only the clone is kept
            return detached.clone();
        });
    }

    public void Dispose()
    {
        foreach (var tensor in weights.Values) tensor.Dispose();
    }
}
