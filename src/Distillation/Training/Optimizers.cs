using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Training;

public static class Optimizers
{
    public static OptimizerHelper Create(OptimizerOptions options, IEnumerable<Parameter> parameters) => options.Name switch
    {
        "sgd" => optim.SGD(parameters, options.LearningRate, options.Momentum, nesterov: options.Nesterov, weight_decay: options.WeightDecay),
        "adam" => optim.Adam(parameters, options.LearningRate, weight_decay: options.WeightDecay),
        "adamw" => optim.AdamW(parameters, options.LearningRate, weight_decay: options.WeightDecay),
        _ => throw new UserInputException(
            $"unknown optimizer '{options.Name}'{Suggest.Nearest(options.Name, OptimizerOptions.Names)}; known optimizers: {string.Join(", ", OptimizerOptions.Names)}."),
    };

    public static void SetLearningRate(OptimizerHelper optimizer, double rate)
    {
        foreach (var group in optimizer.ParamGroups) group.LearningRate = rate;
    }
}
