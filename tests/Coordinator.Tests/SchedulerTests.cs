// Akka TestKit expectations carry their own timeouts; passing the test token to each would add nothing.
#pragma warning disable xUnit1051
using Akka.Actor;
using Akka.TestKit.Xunit;
using Orchestrator.Coordinator.Cluster;
using Orchestrator.Protocol.V1;
using Shouldly;

namespace Orchestrator.Coordinator.Tests;

/// <summary>The scheduler alone, with test probes standing in for the sweep shard region and the node agents.</summary>
public class SchedulerTests : TestKit
{
    static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(300);

    static EnqueueJob Job(string sweep, string job, long attempt = 0, bool resume = false) =>
        new() { Job = new JobSpec { SweepId = sweep, JobId = job, Attempt = attempt }, Resume = resume };

    static SlotFree Slot(string node, int slot) => new() { Node = node, Slot = slot, Device = "cpu" };

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
