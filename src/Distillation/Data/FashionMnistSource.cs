namespace Orchestrator.Distillation.Data;

/// <summary>Fashion-MNIST (Xiao et al. 2017): 70,000 28x28 grey images of clothes in 10 classes, as IDX files.</summary>
sealed class FashionMnistSource : IdxDatasetSource
{
    public override string Name => "fashion-mnist";
    public override int ListOrder => 0;
    public override string InstallHint => "Install it with: sudo apt-get install dataset-fashion-mnist";
}
