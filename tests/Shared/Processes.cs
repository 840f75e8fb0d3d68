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

    /// <summary>
    /// Whether the process with id <paramref name="pid"/> has ended, or ends within <paramref name="timeout"/> (one
    /// already gone counts, and so does a zombie: it has ended, only its parent has not reaped it, e.g. a stopped parent).
    /// </summary>
    public static bool Ends(int pid, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Running(pid))
        {
            if (DateTime.UtcNow > deadline) return false;
            Thread.Sleep(100);
        }
        return true;
    }

    static bool Running(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[stat.LastIndexOf(')') + 2] != 'Z';
        }
        catch (IOException)
        {
            return false; // no process with that id any more
        }
    }
}
