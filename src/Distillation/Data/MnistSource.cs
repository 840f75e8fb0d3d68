namespace Orchestrator.Distillation.Data;

/// <summary>MNIST digits (LeCun et al. 1998): 70,000 28x28 grey images in 10 classes, as IDX files.</summary>
sealed class MnistSource : IdxDatasetSource
{
    public override string Name => "mnist";
    public override int ListOrder => 1;
    public override string InstallHint =>
        "Put the four MNIST IDX files there (torchvision's MNIST(root, download=True) writes them under MNIST/raw/), " +
        "or point --data-dir / ORCHESTRATOR_DATA_DIR at a folder holding mnist/.";
}
