// Akka TestKit expectations carry their own timeouts; passing the test token to each would add nothing.
#pragma warning disable xUnit1051
using JobStates = Orchestrator.Coordinator.Sweeps.JobStates;
using Akka.Actor;
using Akka.TestKit.Xunit;
using Orchestrator.Coordinator.Cluster;
using Orchestrator.Distillation.Configuration;
using Orchestrator.Distillation.Data;
using Orchestrator.Distillation.Losses;
using Orchestrator.Distillation.Models;
using Orchestrator.Distillation.Training;
using TrialStatus = Orchestrator.Protocol.V1.TrialStatus;
using Orchestrator.Protocol.V1;
using Shouldly;

namespace Orchestrator.Coordinator.Tests;

/// <summary>The sweep entity alone (in-memory journal and snapshot store, one per test), with a probe for the scheduler.</summary>
public class SweepEntityTests() : TestKit("akka.persistence.snapshot-store.plugin = \"akka.persistence.snapshot-store.inmem\"")
{
    static readonly string Trial = TrialJson.Write(new TrialConfig("t", new DataOptions("synthetic"), new ModelSpec("mlp-16"), null,
        LossRecipe.LabelsOnly, new TrainingOptions(1, 32, new OptimizerOptions(), new ScheduleOptions(), 1), "cpu"));

    static SubmitSweep Sweep() => new()
    {
        SweepId = "s", Name = "s", Metric = "val_accuracy", Maximize = true, OutputRoot = "/out",
        SoftTargetStore = "/store",
        Jobs =
        {
            new PlannedJob { JobId = "teacher-1", Kind = JobKind.Teacher, WorkJson = Trial },
            new PlannedJob { JobId = "soft-targets-1", Kind = JobKind.SoftTargets, WorkJson = "{}", DependsOn = { "teacher-1" } },
            new PlannedJob { JobId = "trial-a", Kind = JobKind.Student, WorkJson = Trial, DependsOn = { "soft-targets-1" } },
            new PlannedJob { JobId = "trial-b", Kind = JobKind.Student, WorkJson = Trial, DependsOn = { "soft-targets-1", "teacher-1" } },
            new PlannedJob { JobId = "trial-c", Kind = JobKind.Student, WorkJson = Trial },
        },
    };

    static JobFinished Finished(string job, TrialStatus status) =>
        new() { SweepId = "s", JobId = job, Summary = new TrialSummary { Name = job, Status = status, FailureReason = status == TrialStatus.Failed ? "boom" : "" } };

    /// <summary>An entity with <see cref="Sweep"/> submitted, after it handed the scheduler the two jobs that wait for nothing (teacher-1, trial-c).</summary>
    (IActorRef Entity, Akka.TestKit.TestProbe Scheduler) Submitted()
    {
        var scheduler = CreateTestProbe();
        var entity = Sys.ActorOf(SweepEntity.Props("s", scheduler));
        entity.Tell(Sweep());
        ExpectMsg<SweepAccepted>();
        scheduler.ReceiveN(2);
        return (entity, scheduler);
    }

    /// <summary>Stops the entity and starts it again: it recovers from the journal.</summary>
    IActorRef Restarted(IActorRef entity, Akka.TestKit.TestProbe scheduler)
    {
        Watch(entity);
        Sys.Stop(entity);
        ExpectTerminated(entity);
        return Sys.ActorOf(SweepEntity.Props("s", scheduler));
    }

    [Fact]
    public void A_job_is_queued_only_after_every_job_it_depends_on_has_finished()
    {
        var scheduler = CreateTestProbe();
        var entity = Sys.ActorOf(SweepEntity.Props("s", scheduler));
        entity.Tell(Sweep());
        ExpectMsg<SweepAccepted>().Jobs.ShouldBe(5);
        var first = new[] { scheduler.ExpectMsg<EnqueueJob>(), scheduler.ExpectMsg<EnqueueJob>() }.Select(e => e.Job.JobId).Order();
        first.ShouldBe(["teacher-1", "trial-c"]);
        scheduler.ExpectNoMsg(TimeSpan.FromMilliseconds(300));

        entity.Tell(Finished("teacher-1", TrialStatus.Completed));
        var softTargets = scheduler.ExpectMsg<EnqueueJob>().Job;
        softTargets.JobId.ShouldBe("soft-targets-1");
        softTargets.Kind.ShouldBe(JobKind.SoftTargets);
        softTargets.SoftTargetStore.ShouldBe("/store");
        scheduler.ExpectNoMsg(TimeSpan.FromMilliseconds(300));

        entity.Tell(Finished("soft-targets-1", TrialStatus.Completed));
        var students = new[] { scheduler.ExpectMsg<EnqueueJob>(), scheduler.ExpectMsg<EnqueueJob>() }.Select(e => e.Job).ToList();
        students.Select(s => s.JobId).Order().ShouldBe(["trial-a", "trial-b"]);
        students.ShouldAllBe(s => s.WorkJson == Trial && s.Kind == JobKind.Student);
        students.ShouldAllBe(s => s.OutputDirectory == Path.Combine("/out", s.JobId));
    }

    [Fact]
    public void A_failed_teacher_fails_every_job_that_depends_on_it_directly_or_not_with_the_reason()
    {
        var scheduler = CreateTestProbe();
        var entity = Sys.ActorOf(SweepEntity.Props("s", scheduler));
        entity.Tell(Sweep());
        ExpectMsg<SweepAccepted>();
        entity.Tell(Finished("teacher-1", TrialStatus.Failed));
        AwaitAssert(() =>
        {
            entity.Tell(new GetSweepStatus { SweepId = "s", JobsLimit = int.MaxValue });
            var jobs = ExpectMsg<SweepStatus>().Jobs.ToDictionary(j => j.JobId);
            jobs["soft-targets-1"].Summary.FailureReason.ShouldBe("teacher-1 failed: boom");
            jobs["trial-a"].Summary.FailureReason.ShouldBe("soft-targets-1 failed: teacher-1 failed: boom");
            new[] { "soft-targets-1", "trial-a", "trial-b" }.ShouldAllBe(id => jobs[id].State == JobStates.Failed);
            jobs["trial-c"].State.ShouldNotBe(JobStates.Failed);
        });
        scheduler.ReceiveN(2).Select(m => ((EnqueueJob)m).Job.JobId).Order().ShouldBe(["teacher-1", "trial-c"]);
        scheduler.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public void Cancelling_stops_every_unfinished_job_survives_a_restart_and_a_resubmission_resumes()
    {
        var (entity, scheduler) = Submitted();
        entity.Tell(new JobAssigned { SweepId = "s", JobId = "trial-c", Node = "n1", Slot = 0 });
        entity.Tell(Finished("teacher-1", TrialStatus.Completed));
        scheduler.ExpectMsg<EnqueueJob>().Job.JobId.ShouldBe("soft-targets-1");

        entity.Tell(new CancelSweep { SweepId = "s", Reason = "test" });
        var accepted = ExpectMsg<SweepCancelAccepted>();
        (accepted.Cancelled, accepted.WasRunning).ShouldBe((4, true));
        scheduler.ExpectMsg<CancelSweepJobs>().SweepId.ShouldBe("s");
        entity.Tell(Finished("trial-c", TrialStatus.Cancelled)); // its node stopped it: not queued again
        scheduler.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        entity.Tell(new GetSweepStatus { SweepId = "s", JobsLimit = int.MaxValue });
        var status = ExpectMsg<SweepStatus>();
        (status.Cancelled, status.CancelReason, status.Complete).ShouldBe((true, "test", true));
        status.Jobs.Where(j => j.JobId != "teacher-1").ShouldAllBe(j => j.State == JobStates.Cancelled);

        var restarted = Restarted(entity, scheduler);
        scheduler.ExpectNoMsg(TimeSpan.FromMilliseconds(300)); // still cancelled after replay
        restarted.Tell(Sweep());
        ExpectMsg<SweepAccepted>().AlreadyDone.ShouldBe(1);
        scheduler.ReceiveN(2).Select(m => ((EnqueueJob)m).Job.JobId).Order().ShouldBe(["soft-targets-1", "trial-c"]);
    }

    [Fact]
    public void After_a_restart_the_entity_replays_its_events_and_queues_only_unfinished_jobs()
    {
        var (entity, scheduler) = Submitted();
        entity.Tell(new JobAssigned { SweepId = "s", JobId = "trial-c", Node = "n1", Slot = 0 });
        entity.Tell(Finished("trial-c", TrialStatus.Completed));
        entity.Tell(new JobAssigned { SweepId = "s", JobId = "teacher-1", Node = "n1", Slot = 1 });
        AwaitAssert(() =>
        {
            entity.Tell(new GetSweepStatus { SweepId = "s", JobsLimit = int.MaxValue });
            ExpectMsg<SweepStatus>().Jobs.Single(j => j.JobId == "trial-c").State.ShouldBe(JobStates.Done);
        });

        var restarted = Restarted(entity, scheduler);
        scheduler.ExpectMsg<EnqueueJob>().Job.JobId.ShouldBe("teacher-1"); // was running when the coordinator stopped
        scheduler.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        restarted.Tell(Sweep());
        ExpectMsg<SweepAccepted>().AlreadyDone.ShouldBe(1);
    }

    [Fact]
    public void A_job_whose_process_crashed_runs_again_until_its_third_crash_counted_across_a_restart()
    {
        var (entity, scheduler) = Submitted();
        var crash = new JobFinished { SweepId = "s", JobId = "trial-c", Summary = new TrialSummary { Status = TrialStatus.Failed, FailureReason = "worker ended with exit code 137", Crashed = true } };
        entity.Tell(crash);
        scheduler.ExpectMsg<EnqueueJob>().Job.JobId.ShouldBe("trial-c");

        var restarted = Restarted(entity, scheduler);
        scheduler.ReceiveN(2).Select(m => ((EnqueueJob)m).Job.JobId).Order().ShouldBe(["teacher-1", "trial-c"]);
        restarted.Tell(crash.Clone());
        scheduler.ExpectMsg<EnqueueJob>().Job.JobId.ShouldBe("trial-c"); // second crash: runs again
        restarted.Tell(crash.Clone());
        scheduler.ExpectNoMsg(TimeSpan.FromMilliseconds(300)); // third: fails
        AwaitAssert(() =>
        {
            restarted.Tell(new GetSweepStatus { SweepId = "s", JobsLimit = int.MaxValue });
            var job = ExpectMsg<SweepStatus>().Jobs.Single(j => j.JobId == "trial-c");
            job.State.ShouldBe(JobStates.Failed);
            job.Summary.FailureReason.ShouldBe("worker ended with exit code 137 (its process crashed 3 times; not run again)");
        });
    }

    [Fact]
    public void It_snapshots_its_state_and_recovers_from_the_snapshot_and_the_events_after_it()
    {
        var scheduler = CreateTestProbe();
        var entity = Sys.ActorOf(SweepEntity.Props("s", scheduler, snapshotEvery: 2));
        entity.Tell(Sweep());
        ExpectMsg<SweepAccepted>();
        scheduler.ReceiveN(2);
        entity.Tell(Finished("teacher-1", TrialStatus.Completed)); // the second event: a snapshot
        scheduler.ExpectMsg<EnqueueJob>().Job.JobId.ShouldBe("soft-targets-1");
        entity.Tell(new JobAssigned { SweepId = "s", JobId = "trial-c", Node = "n1", Slot = 0 }); // the third: after it
        var store = Akka.Persistence.Persistence.Instance.Apply(Sys).SnapshotStoreFor(null);
        AwaitAssert(() =>
        {
            store.Tell(new Akka.Persistence.LoadSnapshot("sweep-s", Akka.Persistence.SnapshotSelectionCriteria.Latest, long.MaxValue), TestActor);
            var loaded = ExpectMsg<Akka.Persistence.LoadSnapshotResult>().Snapshot;
            loaded.ShouldNotBeNull();
            loaded.Metadata.SequenceNr.ShouldBe(2);
            ((SweepSnapshot)loaded.Snapshot).Jobs.Single().State.ShouldBe(JobState.Done);
        });
        entity.Tell(new GetSweepStatus { SweepId = "s", JobsLimit = int.MaxValue });
        var before = ExpectMsg<SweepStatus>();

        var restarted = Restarted(entity, scheduler);
        scheduler.ReceiveN(2).Select(m => ((EnqueueJob)m).Job.JobId).Order().ShouldBe(["soft-targets-1", "trial-c"]); // trial-c was running: queued again
        restarted.Tell(new GetSweepStatus { SweepId = "s", JobsLimit = int.MaxValue });
        var after = ExpectMsg<SweepStatus>();
        after.Jobs.Single(j => j.JobId == "trial-c").State.ShouldBe(JobStates.Queued);
        after.Jobs.Where(j => j.JobId != "trial-c").ShouldBe(before.Jobs.Where(j => j.JobId != "trial-c"));
    }

    [Fact]
    public void The_scheduler_holds_a_window_of_the_sweeps_jobs_and_gets_the_next_as_slots_take_them()
    {
        var scheduler = CreateTestProbe();
        var entity = Sys.ActorOf(SweepEntity.Props("s", scheduler));
        var sweep = new SubmitSweep { SweepId = "s", Name = "s", OutputRoot = "/out", Metric = "val_accuracy" };
        for (int i = 0; i < SweepEntity.Window + 500; i++) sweep.Jobs.Add(new PlannedJob { JobId = $"j{i:D5}", Kind = JobKind.Student, WorkJson = "{}" });
        entity.Tell(sweep);
        ExpectMsg<SweepAccepted>().Jobs.ShouldBe(SweepEntity.Window + 500);
        var first = scheduler.ReceiveN(SweepEntity.Window).Select(m => ((EnqueueJob)m).Job.JobId).ToList();
        first.ShouldBe(Enumerable.Range(0, SweepEntity.Window).Select(i => $"j{i:D5}"));
        scheduler.ExpectNoMsg(TimeSpan.FromMilliseconds(300));

        for (int i = 0; i < 10; i++) entity.Tell(new JobAssigned { SweepId = "s", JobId = first[i], Node = "n1", Slot = i }); // slots took ten
        scheduler.ReceiveN(10).Select(m => ((EnqueueJob)m).Job.JobId).ShouldBe(Enumerable.Range(SweepEntity.Window, 10).Select(i => $"j{i:D5}"));
        entity.Tell(new JobLost { SweepId = "s", JobId = first[0], Reason = "node n1 left" }); // back in the scheduler's queue: it counts again
        entity.Tell(new JobAssigned { SweepId = "s", JobId = first[10], Node = "n2", Slot = 0 });
        scheduler.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        entity.Tell(Finished(first[20], TrialStatus.Completed)); // finished before any slot was said to take it
        scheduler.ExpectMsg<EnqueueJob>().Job.JobId.ShouldBe($"j{SweepEntity.Window + 10:D5}");
    }

    [Fact]
    public void A_job_cancelled_by_its_node_is_queued_again()
    {
        var (entity, scheduler) = Submitted();
        entity.Tell(Finished("trial-c", TrialStatus.Cancelled));
        scheduler.ExpectMsg<EnqueueJob>().Job.JobId.ShouldBe("trial-c");
    }
}
