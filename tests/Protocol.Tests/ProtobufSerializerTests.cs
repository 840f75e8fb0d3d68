using Akka.Actor;
using Google.Protobuf;
using Orchestrator.Hosting;
using Orchestrator.Protocol.V1;
using Shouldly;

namespace Orchestrator.Protocol.Tests;

public sealed class ProtobufSerializerTests : IDisposable
{
    readonly ActorSystem system = ActorSystem.Create("serializer-test");

    public void Dispose() => system.Dispose();

    [Fact]
    public void Every_cluster_message_round_trips_with_its_protobuf_name_as_manifest()
    {
        var serializer = new ProtobufSerializer((ExtendedActorSystem)system);
        var summary = new TrialSummary { Name = "t", Status = TrialStatus.Completed, TestAccuracy = 0.9, BestCheckpoint = "/x/best.ckpt" };
        IMessage[] messages =
        [
            new SubmitSweep { SweepId = "s", Name = "s", Metric = "val_accuracy", Maximize = true, Jobs = { new PlannedJob { JobId = "j", Kind = JobKind.Student, WorkJson = "{}", Seed = 3, DependsOn = { "soft-targets-1" }, Parameters = { ["alpha"] = "0.5" } } } },
            new JobFinished { SweepId = "s", JobId = "j", Summary = summary },
            new JobCompleted { JobId = "j", Summary = summary },
            new RunJob { Slot = 2, Job = new JobSpec { SweepId = "s", JobId = "j", OutputDirectory = "/out" } },
            new JobProgress { SweepId = "s", JobId = "j", Metrics = new EpochMetrics { Epoch = 4, LossTerms = { ["ce"] = 0.1 } } },
        ];
        foreach (var message in messages)
        {
            string manifest = serializer.Manifest(message);
            manifest.ShouldBe(message.Descriptor.FullName);
            serializer.FromBinary(serializer.ToBinary(message), manifest).ShouldBe(message);
        }
    }

    [Fact]
    public void An_unknown_manifest_is_a_clear_error()
    {
        var serializer = new ProtobufSerializer((ExtendedActorSystem)system);
        Should.Throw<System.Runtime.Serialization.SerializationException>(() => serializer.FromBinary([], "orchestrator.v9.Nope"))
            .Message.ShouldContain("older or newer version");
    }
}
