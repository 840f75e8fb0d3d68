using System.Buffers.Binary;
using System.IO.Compression;
using Orchestrator.Distillation.Data;

namespace Orchestrator.Tests;

/// <summary>
/// Small datasets for tests, cut from the real Fashion-MNIST files (Debian package dataset-fashion-mnist, which
/// the test script installs) and written in the real IDX format, so loading, training and distillation run on real images.
/// </summary>
public static class TestData
{
    public const string FashionMnistDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>A folder holding fashion-mnist/ with the first <paramref name="train"/> training and <paramref name="test"/> test samples.</summary>
    public static string FashionMnistSubset(int train = 2000, int test = 500)
    {
        string root = TemporaryDirectory();
        string directory = Directory.CreateDirectory(Path.Combine(root, "fashion-mnist")).FullName;
        CopyIdx("train-images-idx3-ubyte.gz", directory, train);
        CopyIdx("train-labels-idx1-ubyte.gz", directory, train);
        CopyIdx("t10k-images-idx3-ubyte.gz", directory, test);
        CopyIdx("t10k-labels-idx1-ubyte.gz", directory, test);
        return root;
    }

    /// <summary>The checkout's root (the folder holding Orchestrator.sln), found from the test's output folder.</summary>
    public static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(directory!.FullName, "Orchestrator.sln"))) directory = directory.Parent;
        return directory.FullName;
    }

    /// <summary>
    /// This test process's temporary folders live under one root, removed when the process exits, so a suite run
    /// leaves nothing behind (scripts/test.sh also removes its whole temporary folder, for a test host that is killed).
    /// </summary>
    static readonly Lazy<string> processTemporaryRoot = new(() =>
    {
        string root = Path.Combine(Path.GetTempPath(), "orchestrator-tests", $"{Environment.ProcessId}-{Guid.NewGuid():N}"[..20]);
        Directory.CreateDirectory(root);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => DeleteQuietly(root);
        return root;
    });

    public static string TemporaryDirectory()
    {
        string path = Path.Combine(processTemporaryRoot.Value, Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>Deletes a folder and what it holds; a file a process still holds open elsewhere does not fail the test.</summary>
    public static void DeleteQuietly(string directory)
    {
        try { Directory.Delete(directory, recursive: true); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    /// <summary>Writes <paramref name="text"/> to a file of that name in a new temporary folder; returns its path.</summary>
    public static string WriteFile(string fileName, string text)
    {
        string path = Path.Combine(TemporaryDirectory(), fileName);
        File.WriteAllText(path, text);
        return path;
    }

    static void CopyIdx(string fileName, string directory, int count)
    {
        var source = IdxReader.Read(Path.Combine(FashionMnistDirectory, fileName), fileName.Contains("images") ? 3 : 1);
        int itemLength = source.Shape.Skip(1).Aggregate(1, (a, b) => a * b);
        var shape = source.Shape.ToArray();
        shape[0] = count;
        WriteIdx(Path.Combine(directory, fileName), shape, source.Data.AsSpan(0, count * itemLength).ToArray(), gzip: true);
    }

    /// <summary>Writes an IDX file of unsigned bytes (magic 0x000008nn, big-endian dimensions).</summary>
    public static void WriteIdx(string path, int[] shape, byte[] data, bool gzip)
    {
        using var file = File.Create(path);
        using Stream stream = gzip ? new GZipStream(file, CompressionLevel.Fastest) : file;
        stream.Write([0, 0, 0x08, (byte)shape.Length]);
        var dimension = new byte[4];
        foreach (int size in shape)
        {
            BinaryPrimitives.WriteInt32BigEndian(dimension, size);
            stream.Write(dimension);
        }
        stream.Write(data);
    }
}
