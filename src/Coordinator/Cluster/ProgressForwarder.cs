using Akka.Actor;
using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.Cluster;

/// <summary>Hands the epoch progress the scheduler publishes to a callback outside the actor system (the terminal view).</summary>
public sealed class ProgressForwarder : ReceiveActor
{
    public ProgressForwarder(Action<JobProgress> onProgress)
    {
        Receive<JobProgress>(onProgress);
    }

    protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(JobProgress));

    public static Props Props(Action<JobProgress> onProgress) => Akka.Actor.Props.Create(() => new ProgressForwarder(onProgress));
}
