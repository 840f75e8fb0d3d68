// Akka TestKit expectations carry their own timeouts; passing the test token to each would add nothing.
#pragma warning disable xUnit1051
using Akka.Actor;
using Akka.TestKit.Xunit;
using Orchestrator.Coordinator.Cluster;
using Orchestrator.Coordinator.Planning;
using Orchestrator.Distillation.Configuration;
using Orchestrator.Distillation.Data;
using Orchestrator.Distillation.Losses;
using Orchestrator.Distillation.Models;
using Orchestrator.Protocol.V1;
using Shouldly;
using OptimizerOptions = Orchestrator.Distillation.Training.OptimizerOptions;
using ScheduleOptions = Orchestrator.Distillation.Training.ScheduleOptions;
using TrainingOptions = Orchestrator.Distillation.Training.TrainingOptions;

namespace Orchestrator.Coordinator.Tests;

/// <summary>The scheduler alone, with test probes standing in for the sweep shard region and the node agents.</summary>
public class SchedulerTests : TestKit
{
    static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(300);

    static EnqueueJob Job(string sweep, string job, long attempt = 0, bool resume = false) =>
        new() { Job = new JobSpec { SweepId = sweep, JobId = job, Attempt = attempt }, Resume = resume };

    static SlotFree Slot(string node, int slot) => new() { Node = node, Slot = slot, Device = "cpu" };

    /// <summary>A student trial; trials of one model and seed may share a pack, whatever their learning rates.</summary>
    static EnqueueJob Trial(string job, int seed, string model = "mlp-16", int pack = 0, double rate = 1e-3)
    {
        var trial = new TrialConfig(job, new DataOptions("synthetic"), new ModelSpec(model), null, LossRecipe.LabelsOnly,
            new TrainingOptions(2, 32, new OptimizerOptions("adam", rate), new ScheduleOptions(), seed), "cpu");
        return new() { Job = new JobSpec { SweepId = "s", JobId = job, Kind = JobKind.Student, WorkJson = TrialJson.Write(trial), PackGroup = SweepSubmission.PackGroupOf(trial, pack) } };
    }

    static SlotFree PackSlot(int slot, int capacity, string device = "cpu") => new() { Node = "n1", Slot = slot, Capacity = capacity, Device = device };

    static List<string> Jobs(RunJob run) => [run.Job.JobId, .. run.Pack.Select(j => j.JobId)];

    [Fact]
    public void A_slot_that_offers_a_capacity_gets_its_next_job_with_the_queued_trials_that_can_train_with_it()
    {
        var sweeps = CreateTestProbe();
        var agent = CreateTestProbe();
        var scheduler = Sys.ActorOf(Scheduler.Props(sweeps));
        foreach (var trial in new[] { Trial("a", 1), Trial("other-seed", 2), Trial("b", 1, rate: 3e-3), Trial("conv", 1, "bncnn-student"), Trial("c", 1, rate: 1e-2) })
            scheduler.Tell(trial);
        scheduler.Tell(PackSlot(0, capacity: 8), agent);
        Jobs(agent.ExpectMsg<RunJob>()).ShouldBe(["a", "b", "c"]);
        sweeps.ReceiveN(3).Cast<JobAssigned>().Select(a => a.JobId).ShouldBe(["a", "b", "c"]); // each its own attempt, on the same slot
        scheduler.Tell(PackSlot(0, capacity: 8), agent);
        Jobs(agent.ExpectMsg<RunJob>()).ShouldBe(["other-seed"]);
        scheduler.Tell(PackSlot(0, capacity: 8), agent);
        Jobs(agent.ExpectMsg<RunJob>()).ShouldBe(["conv"]); // auto trains a convolutional model alone on a CPU
    }

    [Fact]
    public void Compatible_trials_are_shared_among_the_free_slots_and_a_pack_never_exceeds_its_limits()
    {
        var sweeps = CreateTestProbe();
        var agent = CreateTestProbe();
        var scheduler = Sys.ActorOf(Scheduler.Props(sweeps));
        for (int k = 0; k < 6; k++) scheduler.Tell(Trial($"t{k}", 1));
        scheduler.Tell(PackSlot(0, capacity: 8), agent);
        scheduler.Tell(PackSlot(1, capacity: 8), agent);
        var runs = new[] { agent.ExpectMsg<RunJob>(), agent.ExpectMsg<RunJob>() };
        runs.Select(r => Jobs(r).Count).ShouldBe([3, 3]); // not 6 and an idle slot

        for (int k = 0; k < 6; k++) scheduler.Tell(Trial($"u{k}", 1, pack: 2));
        scheduler.Tell(PackSlot(2, capacity: 8), agent);
        Jobs(agent.ExpectMsg<RunJob>()).Count.ShouldBe(2); // the sweep's execution.pack
        scheduler.Tell(PackSlot(3, capacity: 1), agent);
        Jobs(agent.ExpectMsg<RunJob>()).Count.ShouldBe(1); // the slot's capacity
        scheduler.Tell(PackSlot(4, capacity: 8, device: "cuda:0"), agent);
        Jobs(agent.ExpectMsg<RunJob>()).Count.ShouldBe(2);

        for (int k = 0; k < 3; k++) scheduler.Tell(Trial($"alone{k}", 1, pack: 1));
        scheduler.Tell(PackSlot(5, capacity: 8), agent);
        Jobs(agent.ExpectMsg<RunJob>()).Count.ShouldBe(1); // pack: 1 is every trial alone
    }

    [Fact]
    public void A_slot_gets_its_next_job_only_after_it_is_free_again()
    {
        var sweeps = CreateTestProbe();
        var agent = CreateTestProbe();
        var scheduler = Sys.ActorOf(Scheduler.Props(sweeps));
        scheduler.Tell(Job("s", "a"));
        scheduler.Tell(Job("s", "b"));
        scheduler.Tell(Slot("n1", 0), agent);

        agent.ExpectMsg<RunJob>().Job.JobId.ShouldBe("a");
        sweeps.ExpectMsg<JobAssigned>().JobId.ShouldBe("a");
        agent.ExpectNoMsg(Quiet);

        scheduler.Tell(new JobFinished { SweepId = "s", JobId = "a", Summary = new TrialSummary() }, agent);
        sweeps.ExpectMsg<JobFinished>().JobId.ShouldBe("a");
        scheduler.Tell(Slot("n1", 0), agent);
        agent.ExpectMsg<RunJob>().Job.JobId.ShouldBe("b");
    }

    [Fact]
    public void Cancelling_a_sweep_drops_its_queued_jobs_and_stops_its_running_ones_only()
    {
        var sweeps = CreateTestProbe();
        var agent = CreateTestProbe();
        var scheduler = Sys.ActorOf(Scheduler.Props(sweeps));
        scheduler.Tell(Job("s", "running"));
        scheduler.Tell(Job("s", "queued"));
        scheduler.Tell(Job("other", "kept"));
        scheduler.Tell(Slot("n1", 0), agent);
        agent.ExpectMsg<RunJob>().Job.JobId.ShouldBe("running");

        scheduler.Tell(new CancelSweepJobs { SweepId = "s" });
        var cancel = agent.ExpectMsg<CancelJob>();
        (cancel.SweepId, cancel.JobId).ShouldBe(("s", "running"));

        scheduler.Tell(new JobFinished { SweepId = "s", JobId = "running", Summary = new TrialSummary { Status = TrialStatus.Cancelled } }, agent);
        scheduler.Tell(Slot("n1", 0), agent);
        agent.ExpectMsg<RunJob>().Job.JobId.ShouldBe("kept"); // "queued" was dropped
        scheduler.Tell(Slot("n1", 1), agent);
        agent.ExpectNoMsg(Quiet);
        scheduler.Tell(Job("s", "queued")); // a resumed sweep queues it again
        agent.ExpectMsg<RunJob>().Job.JobId.ShouldBe("queued");
    }

    [Fact]
    public void Jobs_are_taken_round_robin_across_sweeps()
    {
        var sweeps = CreateTestProbe();
        var agent = CreateTestProbe();
        var scheduler = Sys.ActorOf(Scheduler.Props(sweeps));
        foreach (var job in new[] { Job("big", "1"), Job("big", "2"), Job("big", "3"), Job("small", "1") }) scheduler.Tell(job);
        for (int slot = 0; slot < 4; slot++) scheduler.Tell(Slot("n1", slot), agent);
        var order = Enumerable.Range(0, 4).Select(_ => agent.ExpectMsg<RunJob>().Job).Select(j => $"{j.SweepId}/{j.JobId}").ToList();
        order.ShouldBe(["big/1", "small/1", "big/2", "big/3"]);
    }

    [Fact]
    public void The_same_attempt_is_queued_once()
    {
        var sweeps = CreateTestProbe();
        var agent = CreateTestProbe();
        var scheduler = Sys.ActorOf(Scheduler.Props(sweeps));
        scheduler.Tell(Job("s", "a"));
        scheduler.Tell(Job("s", "a"));
        scheduler.Tell(Slot("n1", 0), agent);
        scheduler.Tell(Slot("n1", 1), agent);
        agent.ExpectMsg<RunJob>();
        agent.ExpectNoMsg(Quiet);
    }

    [Fact]
    public void A_node_that_dies_has_its_jobs_reported_lost_and_their_next_attempts_run_first_while_the_old_attempts_reports_free_nothing()
    {
        var sweeps = CreateTestProbe();
        var doomed = CreateTestProbe();
        var survivor = CreateTestProbe();
        var scheduler = Sys.ActorOf(Scheduler.Props(sweeps));
        scheduler.Tell(Slot("n1", 0), doomed);
        scheduler.Tell(Job("s", "a", attempt: 1));
        scheduler.Tell(Job("s", "b", attempt: 2));
        doomed.ExpectMsg<RunJob>().Job.JobId.ShouldBe("a");
        sweeps.ExpectMsg<JobAssigned>().Attempt.ShouldBe(1);

        Watch(doomed.Ref);
        Sys.Stop(doomed.Ref);
        ExpectTerminated(doomed.Ref);
        var lost = sweeps.ExpectMsg<JobLost>();
        (lost.JobId, lost.Reason, lost.Attempt).ShouldBe(("a", "node n1 left", 1L));
        scheduler.Tell(Job("s", "a", attempt: 3, resume: true)); // the sweep's next attempt
        scheduler.Tell(Slot("n2", 0), survivor);
        var resumed = survivor.ExpectMsg<RunJob>().Job;
        (resumed.JobId, resumed.Attempt).ShouldBe(("a", 3L)); // ahead of b, which never ran

        scheduler.Tell(new JobFinished { SweepId = "s", JobId = "a", Attempt = 1, Summary = new TrialSummary() }); // the old attempt, late
        sweeps.FishForMessage<JobFinished>(_ => true).Attempt.ShouldBe(1); // the sweep decides it is not current
        scheduler.Tell(new CancelSweepJobs { SweepId = "s" });
        survivor.ExpectMsg<CancelJob>().JobId.ShouldBe("a"); // attempt 3 is still running here
    }
}
