using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Orchestrator.Distillation;

/// <summary>The SHA-256 of files' contents: what names a teacher or a dataset, so that a changed file is a new identity.</summary>
public static class FileDigest
{
    static readonly ConcurrentDictionary<string, ((long, DateTime) Version, string Hash)> Known = new();

    /// <summary>
    /// The file's SHA-256, read once per file version (path, length, modification time) in a process, and never further
    /// than its length: a device or a growing file is bad input, not a hang.
    /// </summary>
    public static string Sha256(string path)
    {
        var file = new FileInfo(path);
        var version = (file.Length, file.LastWriteTimeUtc);
        if (Known.TryGetValue(file.FullName, out var known) && known.Version == version) return known.Hash;
        using var stream = File.OpenRead(path);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        long total = 0;
        for (int read; (read = stream.Read(buffer)) > 0;)
        {
            if ((total += read) > file.Length)
                throw new UserInputException($"{path} is not a regular file (it reads past its length: a device, a pipe or a growing file); give a file.");
            hash.AppendData(buffer, 0, read);
        }
        string sha = Convert.ToHexStringLower(hash.GetHashAndReset());
        Known[file.FullName] = (version, sha);
        return sha;
    }
}
