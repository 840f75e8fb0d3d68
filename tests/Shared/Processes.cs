namespace Orchestrator.Tests;

/// <summary>Looking at real processes (Linux /proc) in tests that start, kill and wait for them.</summary>
public static class Processes
{
    /// <summary>The processes whose parent is <paramref name="pid"/>.</summary>
    public static int[] ChildrenOf(int pid) => Directory.GetDirectories("/proc")
        .Select(Path.GetFileName).Where(name => name!.All(char.IsAsciiDigit)).Select(name => int.Parse(name!))
        .Where(child => Stat(child) is { Parent: var parent } && parent == pid).ToArray();

    /// <summary>
    /// Whether the process with id <paramref name="pid"/> has ended, or ends within <paramref name="timeout"/> (one
    /// already gone counts). A child of this process has ended once .NET has reaped it; another's, once it is a
    /// zombie too: its parent may be stopped (SIGSTOP) and not reap it.
    /// </summary>
    public static async Task<bool> EndsAsync(int pid, TimeSpan timeout)
    {
        if (Stat(pid) is { Parent: var parent } && parent == Environment.ProcessId)
        {
            try
            {
                using var child = System.Diagnostics.Process.GetProcessById(pid);
                await child.WaitForExitAsync().WaitAsync(timeout);
                return true;
            }
            catch (ArgumentException)
            {
                return true; // reaped meanwhile
            }
            catch (TimeoutException)
            {
                return false;
            }
        }
        var deadline = DateTime.UtcNow + timeout;
        while (Stat(pid) is { State: not 'Z' })
        {
            if (DateTime.UtcNow > deadline) return false;
            await Task.Delay(100);
        }
        return true;
    }

    /// <summary>A process's state letter and parent (the fields after the command name in /proc/pid/stat); null when there is no such process.</summary>
    static (char State, int Parent)? Stat(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (fields[0][0], int.Parse(fields[1]));
        }
        catch (IOException)
        {
            return null; // it ended meanwhile
        }
    }
}
