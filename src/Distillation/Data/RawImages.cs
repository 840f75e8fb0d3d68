using static TorchSharp.torch;

namespace Orchestrator.Distillation.Data;

/// <summary>
/// A dataset split's samples as stored, before they are normalised: all labels, and pixels read a chunk at a time as
/// uint8 (0..255) or float32 (0..1), [count, C, H, W]. Splits are taken by streaming the chunks into float32 tensors
/// sized for the split, so loading holds the split's tensors and one chunk, not a second copy of the dataset.
/// </summary>
public abstract class Samples : IDisposable
{
    /// <summary>Every sample's class, int64 [N].</summary>
    public abstract Tensor Labels { get; }
    public abstract int Channels { get; }
    public abstract int Height { get; }
    public abstract int Width { get; }
    public int Count => (int)Labels.shape[0];

    /// <summary>The pixels of samples <paramref name="start"/>..<paramref name="start"/> + <paramref name="count"/> - 1, [count, C, H, W], uint8 or float32.</summary>
    protected abstract Tensor ReadPixels(long start, long count);

    /// <summary>Every sample, pixels scaled to [0, 1] as float32.</summary>
    public ImageSet ToTensors() => Split([Enumerable.Range(0, Count).Select(i => (long)i).ToArray()])[0];

    /// <summary>One float32 set per list of sample indices (each sorted), read in one pass over the samples.</summary>
    public IReadOnlyList<ImageSet> Split(IReadOnlyList<long[]> parts)
    {
        var images = parts.Select(p => empty([p.Length, Channels, Height, Width], ScalarType.Float32)).ToList();
        var cursors = new int[parts.Count];
        long chunk = Math.Max(1, (4L << 20) / ((long)Channels * Height * Width)); // about 16 MB of float32 per read: the load holds little beyond the split
        for (long start = 0; start < Count; start += chunk)
        {
            using var scope = NewDisposeScope();
            long count = Math.Min(chunk, Count - start);
            var pixels = ReadPixels(start, count);
            var scaled = pixels.dtype == ScalarType.Byte ? pixels.to_type(ScalarType.Float32).div_(255f) : pixels;
            for (int p = 0; p < parts.Count; p++)
            {
                int first = cursors[p], end = first;
                while (end < parts[p].Length && parts[p][end] < start + count) end++;
                if (end == first) continue;
                var rows = tensor(parts[p][first..end].Select(i => i - start).ToArray());
                images[p].narrow(0, first, end - first).copy_(scaled.index_select(0, rows));
                cursors[p] = end;
            }
        }
        return parts.Select((p, i) =>
        {
            using var index = tensor(p);
            return new ImageSet(images[i], Labels.index_select(0, index));
        }).ToList();
    }

    /// <summary>Refuses a label outside 0..classes - 1, naming the first such sample.</summary>
    public void CheckLabels(string source, int classes)
    {
        using var outside = (Labels < 0).logical_or_(Labels >= classes).nonzero();
        if (outside.shape[0] == 0) return;
        long sample = outside[0, 0].item<long>();
        throw new UserInputException($"{source}: label {Labels[sample].item<long>()} of sample {sample} is outside 0..{classes - 1}; " +
                                     "the file is corrupt or belongs to another dataset.");
    }

    public virtual void Dispose() => Labels.Dispose();
}

/// <summary>Samples decoded into memory: pixels [N, C, H, W] as uint8 (0..255) or float32 (0..1), labels int64 [N].</summary>
public sealed class RawImages : Samples
{
    public Tensor Pixels { get; }
    public override Tensor Labels { get; }

    public RawImages(Tensor pixels, Tensor labels)
    {
        if (pixels.dim() != 4 || pixels.dtype is not (ScalarType.Byte or ScalarType.Float32))
            throw new ArgumentException($"pixels must be uint8 or float32 [N, C, H, W], not {pixels.dtype} [{string.Join(", ", pixels.shape)}]", nameof(pixels));
        Pixels = pixels;
        Labels = labels.to_type(ScalarType.Int64);
    }

    /// <summary>From bytes in N, C, H, W order and one label byte per sample (the built-in formats).</summary>
    public static RawImages FromBytes(byte[] pixels, byte[] labels, int channels, int height, int width) =>
        new(tensor(pixels, [labels.Length, channels, height, width]), tensor(labels));

    public override int Channels => (int)Pixels.shape[1];
    public override int Height => (int)Pixels.shape[2];
    public override int Width => (int)Pixels.shape[3];

    protected override Tensor ReadPixels(long start, long count) => Pixels.narrow(0, start, count);

    public override void Dispose()
    {
        Pixels.Dispose();
        base.Dispose();
    }
}
