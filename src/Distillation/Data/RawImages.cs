using static TorchSharp.torch;

namespace Orchestrator.Distillation.Data;

/// <summary>Decoded but unnormalised samples: pixels as bytes in N, C, H, W order, and one label byte per sample.</summary>
public sealed record RawImages(byte[] Pixels, byte[] Labels, int Channels, int Height, int Width)
{
    public int Count => Labels.Length;

    /// <summary>Pixels scaled to [0, 1] as float32 [N, C, H, W]; labels as int64 [N]; on the CPU.</summary>
    public ImageSet ToTensors()
    {
        using var bytes = tensor(Pixels, new long[] { Count, Channels, Height, Width });
        using var labels = tensor(Labels);
        return new ImageSet(bytes.to_type(ScalarType.Float32).div_(255f), labels.to_type(ScalarType.Int64));
    }

    public void CheckLabels(string source, int classes)
    {
        for (int i = 0; i < Labels.Length; i++)
            if (Labels[i] >= classes)
                throw new UserInputException($"{source}: label {Labels[i]} of sample {i} is outside 0..{classes - 1}; the file is corrupt or belongs to another dataset.");
    }
}
