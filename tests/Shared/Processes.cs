namespace Orchestrator.Tests;

/// <summary>Looking at real processes (Linux /proc) in tests that start, kill and wait for them.</summary>
public static class Processes
{
    /// <summary>The processes whose parent is <paramref name="pid"/> (Linux /proc: the field after the command name in stat is the parent's id).</summary>
    public static int[] ChildrenOf(int pid) => Directory.GetDirectories("/proc")
        .Select(Path.GetFileName).Where(name => name!.All(char.IsAsciiDigit))
        .Select(name =>
        {
            try
            {
                string stat = File.ReadAllText($"/proc/{name}/stat");
                return (Pid: int.Parse(name!), Parent: int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1]));
            }
            catch (IOException) { return (Pid: 0, Parent: 0); } // it ended meanwhile
        })
        .Where(p => p.Parent == pid).Select(p => p.Pid).ToArray();

    /// <summary>Whether the process with id <paramref name="pid"/> has ended, or ends within <paramref name="timeout"/> (one already gone counts).</summary>
    public static bool Ends(int pid, TimeSpan timeout)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return process.WaitForExit(timeout);
        }
        catch (ArgumentException)
        {
            return true; // no process with that id any more
        }
    }
}
