using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Data;

/// <summary>
/// Every sample of one split as two tensors on one device: images [N, C, H, W] float32 and labels [N] int64.
/// Batches are taken with <see cref="Batch"/> by sample index, so the same indices can address per-sample
/// artefacts (cached teacher outputs) without any copy of the data.
/// </summary>
public sealed class ImageSet(Tensor images, Tensor labels) : IDisposable
{
    public Tensor Images { get; } = images;
    public Tensor Labels { get; } = labels;
    public long Count => Labels.shape[0];

    public (Tensor Images, Tensor Labels) Batch(Tensor indices) =>
        (Images.index_select(0, indices), Labels.index_select(0, indices));

    /// <summary>This set on <paramref name="device"/>; the CPU tensors are released when moved.</summary>
    public ImageSet ToDevice(Device device)
    {
        var moved = new ImageSet(Images.to(device), Labels.to(device));
        Dispose();
        return moved;
    }

    public ImageSet Select(long[] indices)
    {
        using var index = tensor(indices);
        return new ImageSet(Images.index_select(0, index), Labels.index_select(0, index));
    }

    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }
}
