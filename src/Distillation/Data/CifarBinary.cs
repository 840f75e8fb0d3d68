namespace Orchestrator.Distillation.Data;

/// <summary>
/// The CIFAR "binary version" record files: each record is <c>labelBytes</c> label bytes (CIFAR-10: the class;
/// CIFAR-100: coarse, then fine), then 1024 red, 1024 green and 1024 blue bytes of a 32x32 image, row-major.
/// </summary>
static class CifarBinary
{
    public const int Side = 32;
    const int Pixels = 3 * Side * Side;

    /// <summary>The records of <paramref name="paths"/>, labelled by label byte <paramref name="label"/>, each label checked against <paramref name="classes"/>.</summary>
    public static RawImages Read(IEnumerable<string> paths, int labelBytes, int label, int classes, string dataset)
    {
        int recordLength = labelBytes + Pixels;
        var pixels = new MemoryStream();
        var labels = new MemoryStream();
        foreach (string path in paths)
        {
            byte[] bytes = File.ReadAllBytes(path);
            if (bytes.Length == 0 || bytes.Length % recordLength != 0)
                throw new UserInputException(
                    $"{path}: {bytes.Length} bytes is not a whole number of {recordLength}-byte {dataset} records; the file is truncated or not the binary version.");
            for (int offset = 0; offset < bytes.Length; offset += recordLength)
            {
                byte value = bytes[offset + label];
                if (value >= classes)
                    throw new UserInputException($"{path}: label {value} of record {offset / recordLength} is outside 0..{classes - 1}; the file is corrupt.");
                labels.WriteByte(value);
                pixels.Write(bytes, offset + labelBytes, Pixels);
            }
        }
        return RawImages.FromBytes(pixels.ToArray(), labels.ToArray(), channels: 3, height: Side, width: Side);
    }
}
