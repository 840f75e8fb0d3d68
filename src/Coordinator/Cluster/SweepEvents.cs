using System.Threading.Channels;
using Akka.Actor;
using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.Cluster;

/// <summary>
/// One sweep's events in this process (its entity's state changes, its jobs' epoch progress) as Watch events in a
/// channel, for a console that follows the sweep as a Watch stream's client would: pushed, never polled.
/// </summary>
public static class SweepEvents
{
    /// <summary>
    /// Starts forwarding the sweep's events (subscribed before this returns: nothing published after it is missed);
    /// stopping the returned actor stops it.
    /// </summary>
    public static IActorRef Subscribe(ActorSystem system, string sweepId, ChannelWriter<WatchEvent> events)
    {
        var forwarder = system.ActorOf(Props.Create(() => new Forwarder(sweepId, events)));
        foreach (var type in new[] { typeof(SweepStateChanged), typeof(JobStateChanged), typeof(JobProgress) }) system.EventStream.Subscribe(forwarder, type);
        return forwarder;
    }

    sealed class Forwarder : ReceiveActor
    {
        public Forwarder(string sweepId, ChannelWriter<WatchEvent> events)
        {
            Receive<SweepStateChanged>(e => e.SweepId == sweepId, e => events.TryWrite(new WatchEvent { Sweep = e }));
            Receive<JobStateChanged>(e => e.SweepId == sweepId, e => events.TryWrite(new WatchEvent { Job = e }));
            Receive<JobProgress>(e => e.SweepId == sweepId, e => events.TryWrite(new WatchEvent { Metrics = e }));
            ReceiveAny(_ => { });
        }
    }
}
