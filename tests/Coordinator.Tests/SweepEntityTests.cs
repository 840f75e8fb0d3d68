// Akka TestKit expectations carry their own timeouts; passing the test token to each would add nothing.
#pragma warning disable xUnit1051
using Akka.Actor;
using Akka.TestKit.Xunit;
using Orchestrator.Coordinator.Cluster;
using Orchestrator.Coordinator.State;
using Orchestrator.Distillation.Configuration;
using Orchestrator.Distillation.Data;
using Orchestrator.Distillation.Losses;
using Orchestrator.Distillation.Models;
using Orchestrator.Distillation.Training;
using Orchestrator.Protocol.V1;
using Shouldly;
using TrialStatus = Orchestrator.Protocol.V1.TrialStatus;

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

    /// <summary>Each job's attempt as the entity last handed it to the scheduler: what a node's reports carry.</summary>
    readonly Dictionary<string, long> attempts = [];

    EnqueueJob Enqueued(Akka.TestKit.TestProbe scheduler) => Seen(scheduler.ExpectMsg<EnqueueJob>());

    List<EnqueueJob> Enqueued(Akka.TestKit.TestProbe scheduler, int count) => scheduler.ReceiveN(count).Select(m => Seen((EnqueueJob)m)).ToList();

    EnqueueJob Seen(EnqueueJob enqueued)
    {
        attempts[enqueued.Job.JobId] = enqueued.Job.Attempt;
        return enqueued;
    }

    JobFinished Finished(string job, TrialStatus status) => new()
    {
        SweepId = "s", JobId = job, Attempt = attempts[job],
        Summary = new TrialSummary { Name = job, Status = status, FailureReason = status == TrialStatus.Failed ? "boom" : "" },
    };

    JobAssigned Assigned(string job, string node, int slot) => new() { SweepId = "s", JobId = job, Node = node, Slot = slot, Attempt = attempts[job] };

    /// <summary>An entity with <see cref="Sweep"/> submitted, after it handed the scheduler the two jobs that wait for nothing (teacher-1, trial-c).</summary>
    (IActorRef Entity, Akka.TestKit.TestProbe Scheduler) Submitted()
    {
        var scheduler = CreateTestProbe();
        var entity = Sys.ActorOf(SweepEntity.Props("s", scheduler));
        entity.Tell(Sweep());
        ExpectMsg<SweepAccepted>();
        Enqueued(scheduler, 2);
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
        var first = new[] { Enqueued(scheduler), Enqueued(scheduler) }.Select(e => e.Job.JobId).Order();
        first.ShouldBe(["teacher-1", "trial-c"]);
        scheduler.ExpectNoMsg(TimeSpan.FromMilliseconds(300));

        entity.Tell(Finished("teacher-1", TrialStatus.Completed));
        var softTargets = Enqueued(scheduler).Job;
        softTargets.JobId.ShouldBe("soft-targets-1");
        softTargets.Kind.ShouldBe(JobKind.SoftTargets);
        softTargets.SoftTargetStore.ShouldBe("/store");
        scheduler.ExpectNoMsg(TimeSpan.FromMilliseconds(300));

        entity.Tell(Finished("soft-targets-1", TrialStatus.Completed));
        var students = new[] { Enqueued(scheduler), Enqueued(scheduler) }.Select(e => e.Job).ToList();
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
        Enqueued(scheduler, 2).Select(e => e.Job.JobId).Order().ShouldBe(["teacher-1", "trial-c"]);
        entity.Tell(Finished("teacher-1", TrialStatus.Failed));
        AwaitAssert(() =>
        {
            entity.Tell(new GetSweepStatus { SweepId = "s", JobsLimit = int.MaxValue });
            var jobs = ExpectMsg<SweepStatus>().Jobs.ToDictionary(j => j.JobId);
            jobs["soft-targets-1"].Summary.FailureReason.ShouldBe("teacher-1 failed: boom");
            jobs["trial-a"].Summary.FailureReason.ShouldBe("soft-targets-1 failed: teacher-1 failed: boom");
            new[] { "soft-targets-1", "trial-a", "trial-b" }.ShouldAllBe(id => jobs[id].State == JobState.Failed);
            jobs["trial-c"].State.ShouldNotBe(JobState.Failed);
        });
        scheduler.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public void Cancelling_stops_every_unfinished_job_survives_a_restart_and_a_resubmission_resumes()
    {
        var (entity, scheduler) = Submitted();
        entity.Tell(Assigned("trial-c", "n1", 0));
        entity.Tell(Finished("teacher-1", TrialStatus.Completed));
        Enqueued(scheduler).Job.JobId.ShouldBe("soft-targets-1");

        entity.Tell(new CancelSweep { SweepId = "s", Reason = "test" });
        var accepted = ExpectMsg<SweepCancelAccepted>();
        (accepted.Cancelled, accepted.WasRunning).ShouldBe((4, true));
        scheduler.ExpectMsg<CancelSweepJobs>().SweepId.ShouldBe("s");
        entity.Tell(Finished("trial-c", TrialStatus.Cancelled)); // its node stopped it: not queued again
        scheduler.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        entity.Tell(new GetSweepStatus { SweepId = "s", JobsLimit = int.MaxValue });
        var status = ExpectMsg<SweepStatus>();
        (status.Cancelled, status.CancelReason, status.Complete).ShouldBe((true, "test", true));
        status.Jobs.Where(j => j.JobId != "teacher-1").ShouldAllBe(j => j.State == JobState.Cancelled);

        var restarted = Restarted(entity, scheduler);
        scheduler.ExpectNoMsg(TimeSpan.FromMilliseconds(300)); // still cancelled after replay
        restarted.Tell(Sweep());
        ExpectMsg<SweepAccepted>().AlreadyDone.ShouldBe(1);
        Enqueued(scheduler, 2).Select(e => e.Job.JobId).Order().ShouldBe(["soft-targets-1", "trial-c"]);
    }

    [Fact]
    public void After_a_restart_the_entity_replays_its_events_and_queues_only_unfinished_jobs()
    {
        var (entity, scheduler) = Submitted();
        entity.Tell(Assigned("trial-c", "n1", 0));
        entity.Tell(Finished("trial-c", TrialStatus.Completed));
        entity.Tell(Assigned("teacher-1", "n1", 1));
        AwaitAssert(() =>
        {
            entity.Tell(new GetSweepStatus { SweepId = "s", JobsLimit = int.MaxValue });
            ExpectMsg<SweepStatus>().Jobs.Single(j => j.JobId == "trial-c").State.ShouldBe(JobState.Done);
        });

        var restarted = Restarted(entity, scheduler);
        Enqueued(scheduler).Job.JobId.ShouldBe("teacher-1"); // was running when the coordinator stopped
        scheduler.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        restarted.Tell(Sweep());
        ExpectMsg<SweepAccepted>().AlreadyDone.ShouldBe(1);
    }

    [Fact]
    public void A_job_whose_process_crashed_runs_again_until_its_third_crash_counted_across_a_restart()
    {
        var (entity, scheduler) = Submitted();
        JobFinished Crash() => new()
        {
            SweepId = "s", JobId = "trial-c", Attempt = attempts["trial-c"],
            Summary = new TrialSummary { Status = TrialStatus.Failed, FailureReason = "worker ended with exit code 137", Crashed = true },
        };
        entity.Tell(Crash());
        Enqueued(scheduler).Job.JobId.ShouldBe("trial-c");

        var restarted = Restarted(entity, scheduler);
        Enqueued(scheduler, 2).Select(e => e.Job.JobId).Order().ShouldBe(["teacher-1", "trial-c"]);
        restarted.Tell(Crash());
        Enqueued(scheduler).Job.JobId.ShouldBe("trial-c"); // second crash: runs again
        restarted.Tell(Crash());
        scheduler.ExpectNoMsg(TimeSpan.FromMilliseconds(300)); // third: fails
        AwaitAssert(() =>
        {
            restarted.Tell(new GetSweepStatus { SweepId = "s", JobsLimit = int.MaxValue });
            var job = ExpectMsg<SweepStatus>().Jobs.Single(j => j.JobId == "trial-c");
            job.State.ShouldBe(JobState.Failed);
            job.Summary.FailureReason.ShouldBe("worker ended with exit code 137 (its process crashed 3 times; not run again)");
        });
    }

    [Fact]
    public void It_snapshots_its_state_and_recovers_from_the_snapshot_and_the_events_after_it()
    {
        var scheduler = CreateTestProbe();
        var entity = Sys.ActorOf(SweepEntity.Props("s", scheduler, snapshotEvery: 3));
        entity.Tell(Sweep());
        ExpectMsg<SweepAccepted>();
        Enqueued(scheduler, 2);
        entity.Tell(Finished("teacher-1", TrialStatus.Completed)); // the third event (after the plan and the attempts reserved): a snapshot
        Enqueued(scheduler).Job.JobId.ShouldBe("soft-targets-1");
        entity.Tell(Assigned("trial-c", "n1", 0)); // the third: after it
        var store = Akka.Persistence.Persistence.Instance.Apply(Sys).SnapshotStoreFor(null);
        AwaitAssert(() =>
        {
            store.Tell(new Akka.Persistence.LoadSnapshot("sweep-s", Akka.Persistence.SnapshotSelectionCriteria.Latest, long.MaxValue), TestActor);
            var loaded = ExpectMsg<Akka.Persistence.LoadSnapshotResult>().Snapshot;
            loaded.ShouldNotBeNull();
            loaded.Metadata.SequenceNr.ShouldBe(3);
            SweepSnapshotCodec.MovedJobs((SweepSnapshot)loaded.Snapshot).Single().State.ShouldBe(JobState.Done);
        });
        entity.Tell(new GetSweepStatus { SweepId = "s", JobsLimit = int.MaxValue });
        var before = ExpectMsg<SweepStatus>();

        var restarted = Restarted(entity, scheduler);
        Enqueued(scheduler, 2).Select(e => e.Job.JobId).Order().ShouldBe(["soft-targets-1", "trial-c"]); // trial-c was running: queued again
        restarted.Tell(new GetSweepStatus { SweepId = "s", JobsLimit = int.MaxValue });
        var after = ExpectMsg<SweepStatus>();
        after.Jobs.Single(j => j.JobId == "trial-c").State.ShouldBe(JobState.Queued);
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
        var first = Enqueued(scheduler, SweepEntity.Window).Select(e => e.Job.JobId).ToList();
        first.ShouldBe(Enumerable.Range(0, SweepEntity.Window).Select(i => $"j{i:D5}"));
        scheduler.ExpectNoMsg(TimeSpan.FromMilliseconds(300));

        for (int i = 0; i < 10; i++) entity.Tell(Assigned(first[i], "n1", i)); // slots took ten
        Enqueued(scheduler, 10).Select(e => e.Job.JobId).ShouldBe(Enumerable.Range(SweepEntity.Window, 10).Select(i => $"j{i:D5}"));
        entity.Tell(new JobLost { SweepId = "s", JobId = first[0], Reason = "node n1 left", Attempt = attempts[first[0]] });
        scheduler.ExpectNoMsg(TimeSpan.FromMilliseconds(300)); // the window is full
        entity.Tell(Assigned(first[10], "n2", 0));
        var again = Enqueued(scheduler); // a new attempt, ahead of the jobs that never ran
        (again.Job.JobId, again.Resume, again.Job.Attempt).ShouldBe((first[0], true, SweepEntity.Window + 11L));
        scheduler.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        entity.Tell(Finished(first[20], TrialStatus.Completed)); // finished before any slot was said to take it
        Enqueued(scheduler).Job.JobId.ShouldBe($"j{SweepEntity.Window + 10:D5}");
    }

    [Fact]
    public void A_job_cancelled_by_its_node_is_queued_again()
    {
        var (entity, scheduler) = Submitted();
        entity.Tell(Finished("trial-c", TrialStatus.Cancelled));
        Enqueued(scheduler).Job.JobId.ShouldBe("trial-c");
    }
}
