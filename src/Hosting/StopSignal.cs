using System.Runtime.InteropServices;

namespace Orchestrator.Hosting;

/// <summary>
/// Whether SIGTERM or SIGINT reached this process since it was made: a stop asked for. A member the cluster removed
/// also sees its actor system end, so that alone cannot tell the two apart; a process that should start again only
/// after a removal asks this. Default handling goes on.
/// </summary>
public sealed class StopSignal : IDisposable
{
    /// <summary>
    /// How long to wait for the signal once the actor system ended: a signal's handlers are called one after another,
    /// and Akka's own (which ends the actor system) can come before this one. A removal waits this much longer to rejoin.
    /// </summary>
    static readonly TimeSpan Grace = TimeSpan.FromSeconds(1);

    readonly TaskCompletionSource received = new(TaskCreationOptions.RunContinuationsAsynchronously);
    readonly PosixSignalRegistration[] registrations;

    public StopSignal() => registrations =
    [
        PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ => received.TrySetResult()),
        PosixSignalRegistration.Create(PosixSignal.SIGINT, _ => received.TrySetResult()),
    ];

    /// <summary>Whether a stop was asked for (a signal, or <paramref name="cancellation"/>), waiting up to <see cref="Grace"/> for the signal.</summary>
    public async Task<bool> AskedAsync(CancellationToken cancellation)
    {
        if (!cancellation.IsCancellationRequested) await Task.WhenAny(received.Task, Task.Delay(Grace, cancellation)).ConfigureAwait(false);
        return received.Task.IsCompleted || cancellation.IsCancellationRequested;
    }

    public void Dispose()
    {
        foreach (var registration in registrations) registration.Dispose();
    }
}
