using System.Runtime.InteropServices;

namespace Orchestrator.Distillation.Configuration;

/// <summary>
/// The folders a sweep submitted over the coordinator's API may name files in (teacher checkpoints, TorchScript files,
/// datasets): a remote client must not make the coordinator open any file it can reach. Parsing and planning inside
/// <see cref="Restrict"/> check every path a sweep file names (<see cref="ConfigMap.PathOf"/>) against them: the path's
/// real location (symbolic links followed, as the kernel does) must lie under a root, and what is there must be a
/// regular file or a folder (not a device, a FIFO or a socket). <c>local</c> and <c>validate</c> on one's own machine
/// run outside any restriction and read any path.
/// </summary>
/// <param name="Roots">Full paths of the allowed folders, their own links resolved.</param>
/// <param name="HowToAllow">What the refusal tells the user to do, e.g. "start the coordinator with --allow-path DIR".</param>
public sealed record ReadableRoots(IReadOnlyList<string> Roots, string HowToAllow)
{
    static readonly AsyncLocal<ReadableRoots?> current = new();

    /// <summary>The restriction in force for this flow of work; null: any path may be read.</summary>
    public static ReadableRoots? Current => current.Value;

    public static ReadableRoots Of(IEnumerable<string> roots, string howToAllow) =>
        new(roots.Select(Path.GetFullPath).Select(r => Path.TrimEndingDirectorySeparator(RealPath(r) ?? r)).Distinct().ToList(), howToAllow);

    /// <summary>Restricts the paths read by this flow (and the tasks it starts) until disposed.</summary>
    public static IDisposable Restrict(ReadableRoots roots)
    {
        var before = current.Value;
        current.Value = roots;
        return new Restore(before);
    }

    sealed class Restore(ReadableRoots? before) : IDisposable
    {
        public void Dispose() => current.Value = before;
    }

    /// <summary>
    /// Throws when <paramref name="path"/> (a full path) may not be read: <see cref="PathNotAllowedException"/> outside
    /// the roots, <see cref="UserInputException"/> for what is not a file or a folder; <paramref name="locate"/> puts
    /// where the path was written in front of the message.
    /// </summary>
    public void Check(string path, Func<string, string> locate)
    {
        // A path that does not exist reads nothing: its own error ("does not exist") follows where it is used.
        string real = RealPath(path) ?? path;
        if (!Roots.Any(root => real == root || real.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal)))
            throw new PathNotAllowedException(locate($"{path}{(real != path ? $" (which is {real})" : "")} is outside the folders this coordinator " +
                $"reads sweeps' files from ({string.Join(", ", Roots)}); {HowToAllow}"));
        if (new[] { "/proc/", "/sys/", "/dev/" }.Any(kernel => real.StartsWith(kernel, StringComparison.Ordinal)))
            throw new UserInputException(locate($"{path} is one of the kernel's files, not data; name a checkpoint, TorchScript file or dataset."));
        if (Kind(real) is { } kind)
            throw new UserInputException(locate($"{path} is {kind}, not a file or a folder; name a checkpoint, TorchScript file or dataset."));
    }

    /// <summary>"a device", "a FIFO (named pipe)", "a socket", or null for a regular file, a folder, or nothing there.</summary>
    static string? Kind(string path)
    {
        // .NET tells files from folders only; the file type is st_mode's top bits, from stat(2), whose struct puts
        // st_mode after st_nlink (8 bytes) on x86-64 and before st_nlink (4 bytes) on arm64.
        var buffer = new byte[256];
        if (stat(path, buffer) != 0) return null;
        int offset = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 16 : 24;
        return (BitConverter.ToUInt32(buffer, offset) & 0xF000) switch
        {
            0x8000 or 0x4000 => null,
            0x2000 or 0x6000 => "a device",
            0x1000 => "a FIFO (named pipe)",
            0xC000 => "a socket",
            _ => "not a regular file",
        };
    }

    /// <summary>The path with every symbolic link and ./.. resolved as the kernel would open it (realpath(3)); null when it does not exist.</summary>
    static string? RealPath(string path)
    {
        IntPtr resolved = realpath(path, IntPtr.Zero);
        if (resolved == IntPtr.Zero) return null;
        try { return Marshal.PtrToStringUTF8(resolved); }
        finally { free(resolved); }
    }

    [DllImport("libc", SetLastError = true)]
    static extern IntPtr realpath(string path, IntPtr resolved);

    [DllImport("libc")]
    static extern void free(IntPtr pointer);

    [DllImport("libc", SetLastError = true)]
    static extern int stat(string path, byte[] buffer);
}
