using Orchestrator.Distillation.Data;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Training;

/// <summary>
/// A trial's augmentation (<c>augment:</c> in a trial file): <paramref name="Crop"/> pads by that many pixels and takes a
/// random window of the original size (pad-and-crop, as CIFAR recipes do), <paramref name="Jitter"/> shifts by up to
/// that many pixels (MNIST's 1-2 pixel jitter), <paramref name="Flip"/> mirrors half the images left to right.
/// Padding is black (the normalised value of a zero pixel).
/// </summary>
public sealed record AugmentOptions(int Crop = 0, bool Flip = false, int Jitter = 0)
{
    /// <summary>
    /// <c>augment: standard</c>, per dataset: CIFAR-10 crops 4 and flips; Fashion-MNIST jitters 2 and flips (clothes
    /// are symmetric); digits jitter 2 and never flip (a mirrored 2 is not a 2) unless a trial says flip: true.
    /// </summary>
    public static AugmentOptions Standard(string dataset) => dataset switch
    {
        "cifar10" or "cifar100" => new AugmentOptions(Crop: 4, Flip: true),
        "fashion-mnist" => new AugmentOptions(Flip: true, Jitter: 2),
        _ => new AugmentOptions(Jitter: 2),
    };

    /// <summary>The largest shift as a share of the image's side: beyond, most of an image is padding.</summary>
    public const int MaxShiftDivisor = 4;

    /// <summary>Throws with what to write when the shifts do not fit the dataset's images.</summary>
    public void Check(DatasetSource dataset)
    {
        if (Crop < 0 || Jitter < 0) throw new UserInputException("crop and jitter are pixels: give 0 or more.");
        int most = dataset.ImageSide / MaxShiftDivisor;
        if (Crop + Jitter > most)
            throw new UserInputException($"crop + jitter = {Crop + Jitter} pixels shifts {dataset.Name}'s {dataset.ImageSide}x{dataset.ImageSide} images too far; give at most {most} in all.");
    }

    public bool IsNone => Crop == 0 && Jitter == 0 && !Flip;
}

/// <summary>
/// Augments a batch on its device. Each sample's shift and flip are a hash of its position in the training split and a
/// key, not draws from a generator: the same (sample, key) gives the same image on any device and in any batch, so a
/// resumed epoch augments exactly as the uninterrupted one did, and a teacher's stored outputs for view v of a sample
/// (<see cref="ViewKey"/>) are of exactly the image a student sees when it trains on view v.
/// </summary>
public static class Augmentation
{
    /// <summary>The key of a trial's epoch (0-based): another augmentation in every epoch and for every seed; bit 32 set, so never a view's key.</summary>
    public static long EpochKey(int seed, int epoch) => Hash32((uint)seed * 0x9E3779B1u ^ Hash32((uint)epoch + 0x6A09E667u)) | 1L << 32;

    /// <summary>The key of stored view <paramref name="view"/>: the same for every seed (the views are the teachers').</summary>
    public static long ViewKey(int view) => Hash32((uint)view + 0xBB67AE85u);

    /// <param name="images">[B, C, H, W], normalised.</param>
    /// <param name="positions">[B] the samples' positions in the training split.</param>
    /// <param name="black">[1, C, 1, 1] the normalised value of a zero pixel: the padding.</param>
    public static Tensor Apply(Tensor images, Tensor positions, long key, AugmentOptions options, Tensor black)
    {
        if (options.IsNone) return images;
        using var scope = NewDisposeScope();
        long b = images.shape[0], c = images.shape[1], h = images.shape[2], w = images.shape[3];
        int margin = options.Crop + options.Jitter;
        var seed = positions.to_type(ScalarType.Int64) * 0x9E3779B1L + key;
        var dx = zeros_like(seed);
        var dy = zeros_like(seed);
        if (options.Crop > 0)
        {
            dx += Uniform(seed, 1, 2 * options.Crop + 1) - options.Crop;
            dy += Uniform(seed, 2, 2 * options.Crop + 1) - options.Crop;
        }
        if (options.Jitter > 0)
        {
            dx += Uniform(seed, 3, 2 * options.Jitter + 1) - options.Jitter;
            dy += Uniform(seed, 4, 2 * options.Jitter + 1) - options.Jitter;
        }
        var columns = arange(w, device: images.device).unsqueeze(0).expand(b, w);
        if (options.Flip) columns = where(Uniform(seed, 5, 2).eq(1).unsqueeze(1), (w - 1) - columns, columns);
        var rows = arange(h, device: images.device).unsqueeze(0) + (margin + dy).unsqueeze(1); // [B, H] rows of the padded image
        columns = columns + (margin + dx).unsqueeze(1);                                         // [B, W]
        var padded = nn.functional.pad(images, [margin, margin, margin, margin]);
        var shiftedRows = padded.gather(2, rows.view(b, 1, h, 1).expand(b, c, h, w + 2 * margin));
        var moved = shiftedRows.gather(3, columns.view(b, 1, 1, w).expand(b, c, h, w));
        // Pixels read from the padding are black: chosen, not computed, so every other pixel is the original exactly.
        var inside = (rows >= margin).logical_and(rows < margin + h).view(b, 1, h, 1)
            .logical_and((columns >= margin).logical_and(columns < margin + w).view(b, 1, 1, w));
        return where(inside, moved, black).MoveToOuterDisposeScope();
    }

    /// <summary>A value in [0, n) per sample: round <paramref name="round"/> of a 32-bit integer hash of its seed.</summary>
    static Tensor Uniform(Tensor seed, long round, long n)
    {
        const long Mask = 0xFFFFFFFFL;
        var x = (seed + round * 0x85EBCA77L).bitwise_and(Mask);
        // lowbias32 (Wellons): two multiply-xorshift rounds, each product masked back to 32 bits.
        x = x.bitwise_xor(x.bitwise_right_shift(16));
        x = (x * 0x7FEB352DL).bitwise_and(Mask);
        x = x.bitwise_xor(x.bitwise_right_shift(15));
        x = (x * 0x846CA68BL).bitwise_and(Mask);
        x = x.bitwise_xor(x.bitwise_right_shift(16));
        return x.remainder(n);
    }

    /// <summary>lowbias32 on the CPU, for keys.</summary>
    static uint Hash32(uint x)
    {
        x ^= x >> 16;
        x *= 0x7FEB352Du;
        x ^= x >> 15;
        x *= 0x846CA68Bu;
        x ^= x >> 16;
        return x;
    }
}
