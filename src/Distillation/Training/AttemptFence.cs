namespace Orchestrator.Distillation.Training;

/// <summary>
/// Keeps a trial's folder to one attempt at a time. Every dispatch of a trial has a number above the ones before
/// (the sweep gives them out), and the folder's <see cref="FileName"/> file names the attempt that owns it: an attempt
/// claims the folder when it starts, unless a later one has, and checks the file before each write (the checkpoints
/// just before their rename, each metrics line, the summary). So an attempt that was superseded while its node was
/// stopped, partitioned or downed stops at its next write, or within a second (<see cref="Poll"/>), and never
/// changes what the current attempt wrote. The one window left is a process stopped between a check and its rename
/// (microseconds), which a shared filesystem without conditional writes cannot close.
/// </summary>
public sealed class AttemptFence(string directory, long attempt)
{
    public const string FileName = "attempt";

    readonly string path = Path.Combine(directory, FileName);

    public long Attempt { get; } = attempt > 0 ? attempt : throw new ArgumentOutOfRangeException(nameof(attempt), attempt, "attempts are numbered from 1");

    /// <summary>Takes the folder for this attempt; <see cref="SupersededException"/> if a later attempt already has it.</summary>
    public void Claim()
    {
        long holder = NotSuperseded();
        if (holder != Attempt) AtomicFile.WriteText(path, Attempt + "\n");
        Check(); // two attempts that claimed at once: the one whose number stayed owns the folder
    }

    /// <summary>Throws <see cref="SupersededException"/> if a later attempt holds the folder; writes nothing. Returns the attempt that does.</summary>
    public long NotSuperseded()
    {
        long holder = Holder();
        return holder > Attempt ? throw new SupersededException(Attempt, holder) : holder;
    }

    /// <summary>Throws <see cref="SupersededException"/> unless this attempt still owns the folder.</summary>
    public void Check()
    {
        long holder = Holder();
        if (holder != Attempt) throw new SupersededException(Attempt, holder);
    }

    /// <summary>
    /// <see cref="Check"/>, at most once a second: cheap enough for every batch, so a training loop stops within a
    /// second of being superseded. On the training thread, since a slot worker allocates on that thread only.
    /// </summary>
    public void Poll()
    {
        long now = Environment.TickCount64;
        if (now - lastPolled < 1000) return;
        lastPolled = now;
        Check();
    }

    long lastPolled = Environment.TickCount64;

    /// <summary>The attempt the file names; 0 when there is none (a folder no attempt has claimed, or one a trial run by hand wrote).</summary>
    long Holder()
    {
        try
        {
            return long.TryParse(File.ReadAllText(path).Trim(), out long holder) ? holder : 0;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return 0;
        }
    }
}

/// <summary>Another attempt owns the trial's folder now: this one stops and writes nothing more.</summary>
public sealed class SupersededException(long attempt, long holder)
    : Exception($"attempt {attempt} was superseded by attempt {holder}, which owns the trial's folder now");
