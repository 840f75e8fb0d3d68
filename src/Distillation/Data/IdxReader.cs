using System.Buffers.Binary;
using System.IO.Compression;

namespace Orchestrator.Distillation.Data;

/// <summary>
/// Reads IDX files (the MNIST / Fashion-MNIST format), gzip-compressed or raw; compression is detected from
/// the content, not the file name. Only unsigned-byte data (type 0x08) exists in those datasets.
/// </summary>
public static class IdxReader
{
    public sealed record IdxArray(int[] Shape, byte[] Data);

    public static IdxArray Read(string path, int expectedDimensions)
    {
        byte[] bytes = ReadMaybeGzip(path);
        if (bytes.Length < 4)
            throw new UserInputException($"{path}: too short to be an IDX file ({bytes.Length} bytes); the file is truncated or not IDX.");
        if (bytes[0] != 0 || bytes[1] != 0 || bytes[2] != 0x08 || bytes[3] != expectedDimensions)
            throw new UserInputException(
                $"{path}: wrong IDX magic 0x{bytes[0]:x2}{bytes[1]:x2}{bytes[2]:x2}{bytes[3]:x2}, expected 0x000008{expectedDimensions:x2} " +
                $"(unsigned bytes, {expectedDimensions} dimension(s)); is this the right file?");
        int headerLength = 4 + 4 * expectedDimensions;
        if (bytes.Length < headerLength)
            throw new UserInputException($"{path}: truncated IDX header ({bytes.Length} bytes, the header needs {headerLength}).");
        var shape = new int[expectedDimensions];
        long count = 1;
        for (int d = 0; d < expectedDimensions; d++)
        {
            shape[d] = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4 + 4 * d));
            if (shape[d] < 1)
                throw new UserInputException($"{path}: the IDX header gives dimension {d + 1} a size of {shape[d]}; every size must be at least 1. The file is corrupt or not this dataset's.");
            count *= shape[d];
            if (count > Array.MaxLength)
                throw new UserInputException($"{path}: the IDX header declares shape [{string.Join(", ", shape[..(d + 1)])}...], over {Array.MaxLength:N0} bytes of data; the file is corrupt.");
        }
        long available = bytes.Length - headerLength;
        if (available < count)
            throw new UserInputException(
                $"{path}: truncated: the header declares shape [{string.Join(", ", shape)}] = {count} bytes of data, the file holds {available}. " +
                "Re-install or re-download the dataset.");
        return new IdxArray(shape, bytes.AsSpan(headerLength, (int)count).ToArray());
    }

    static byte[] ReadMaybeGzip(string path)
    {
        byte[] raw = File.ReadAllBytes(path);
        if (raw.Length < 2 || raw[0] != 0x1f || raw[1] != 0x8b)
            return raw;
        try
        {
            using var gzip = new GZipStream(new MemoryStream(raw), CompressionMode.Decompress);
            using var output = new MemoryStream();
            gzip.CopyTo(output);
            return output.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw new UserInputException($"{path}: corrupt or truncated gzip data ({e.Message}). Re-install or re-download the dataset.", e);
        }
    }
}
