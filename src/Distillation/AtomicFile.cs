namespace Orchestrator.Distillation;

/// <summary>Writes a file so that readers see either the old content or the whole new content, never a part.</summary>
public static class AtomicFile
{
    /// <param name="beforeReplace">Runs once the new content is on disk, just before it replaces the old (a fence's check); if it throws, the old file stays.</param>
    public static void Write(string path, Action<Stream> write, Action? beforeReplace = null) =>
        WriteAsync(path, stream =>
        {
            write(stream);
            return Task.CompletedTask;
        }, beforeReplace).GetAwaiter().GetResult(); // completes synchronously: the stream does synchronous I/O

    /// <summary>The same, for a writer that writes as it reads (a large table, a page at a time).</summary>
    public static async Task WriteAsync(string path, Func<Stream, Task> write, Action? beforeReplace = null)
    {
        string directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        // Unique per write: two writers of the same file (a cancelled trial still finishing its batch) never share a temporary.
        string temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                await write(stream);
                stream.Flush(flushToDisk: true);
            }
            beforeReplace?.Invoke();
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    public static void WriteText(string path, string text, Action? beforeReplace = null) =>
        Write(path, stream => stream.Write(System.Text.Encoding.UTF8.GetBytes(text)), beforeReplace);
}
