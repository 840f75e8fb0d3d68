using Orchestrator.Distillation.Data;

namespace Orchestrator.Distillation.Tests;

/// <summary>The shapes of the datasets the models are built for, for tests that build models without loading data.</summary>
static class DatasetShapes
{
    public static readonly DatasetInfo FashionMnist = new("fashion-mnist", 1, 28, 28, 10);
    public static readonly DatasetInfo Cifar10 = new("cifar10", 3, 32, 32, 10);
}
