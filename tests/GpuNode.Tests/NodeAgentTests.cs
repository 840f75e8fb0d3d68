// Akka TestKit expectations carry their own timeouts; passing the test token to each would add nothing.
#pragma warning disable xUnit1051
using Akka.Actor;
using Akka.TestKit.Xunit;
using Orchestrator.GpuNode;
using Orchestrator.Protocol.V1;
using Shouldly;

namespace Orchestrator.GpuNode.Tests;

/// <summary>The node agent alone, with a probe for the scheduler and a job runner that the test controls.</summary>
public class NodeAgentTests : TestKit
{
    static RunJob Run(string job, int slot) => new() { Slot = slot, Job = new JobSpec { SweepId = "s", JobId = job } };

    [Fact]
    public void Offers_each_slot_then_runs_jobs_off_the_actor_thread_and_offers_the_slot_again()
    {
        var scheduler = CreateTestProbe();
        var threads = new System.Collections.Concurrent.ConcurrentBag<string?>();
        JobRunner runner = (job, _, device, _, _) =>
        {
            threads.Add(Thread.CurrentThread.Name);
            return new TrialSummary { Name = job.JobId, Status = TrialStatus.Completed, Device = device };
        };
        var agent = Sys.ActorOf(NodeAgent.Props("n1", ["cpu", "cuda:0"], scheduler, runner));
        scheduler.ExpectMsg<SlotFree>().Slot.ShouldBe(0);
        var second = scheduler.ExpectMsg<SlotFree>();
        (second.Slot, second.Device).ShouldBe((1, "cuda:0"));

        agent.Tell(Run("j1", 1));
        var finished = scheduler.ExpectMsg<JobFinished>();
        (finished.JobId, finished.Summary.Device).ShouldBe(("j1", "cuda:0"));
        scheduler.ExpectMsg<SlotFree>().Slot.ShouldBe(1);
        threads.ShouldBe(["n1-slot1"]);
    }

    [Fact]
    public void A_slot_offers_its_capacity_reports_each_job_of_a_pack_as_it_ends_and_is_offered_again_when_all_have()
    {
        var scheduler = CreateTestProbe();
        PackRunner runner = (jobs, _, _) =>
        {
            jobs[0].Done(new TrialSummary { Name = jobs[0].Job.JobId, Status = TrialStatus.EarlyStopped });
            // The others train on until the sweep stops b.
            bool stopped = jobs[1].Signals.Stop.WaitHandle.WaitOne(TimeSpan.FromSeconds(10));
            jobs[1].Done(new TrialSummary { Name = jobs[1].Job.JobId, Status = stopped ? TrialStatus.Stopped : TrialStatus.Completed });
            // c is never reported: the agent says so rather than lose it.
        };
        var agent = Sys.ActorOf(NodeAgent.Props("n1", ["cpu"], scheduler, runner, capacity: 8));
        scheduler.ExpectMsg<SlotFree>().Capacity.ShouldBe(8);

        agent.Tell(new RunJob { Slot = 0, Job = Run("a", 0).Job, Pack = { Run("b", 0).Job, Run("c", 0).Job } });
        scheduler.ExpectMsg<JobFinished>().JobId.ShouldBe("a"); // while b and c still train
        agent.Tell(new StopJob { SweepId = "s", JobId = "b" });
        var b = scheduler.ExpectMsg<JobFinished>();
        (b.JobId, b.Summary.Status).ShouldBe(("b", TrialStatus.Stopped));
        var c = scheduler.ExpectMsg<JobFinished>();
        (c.JobId, c.Summary.Status).ShouldBe(("c", TrialStatus.Failed));
        c.Summary.FailureReason.ShouldContain("without reporting");
        scheduler.ExpectMsg<SlotFree>().Slot.ShouldBe(0); // once all three have ended
    }

    [Fact]
    public void A_slot_whose_worker_crashes_three_jobs_in_a_row_is_not_offered_again_but_one_success_resets_the_count()
    {
        var scheduler = CreateTestProbe();
        var outcomes = new System.Collections.Concurrent.ConcurrentQueue<bool>([true, true, false, true, true, true]); // crashed?
        JobRunner runner = (job, _, _, _, _) => new TrialSummary { Name = job.JobId, Status = TrialStatus.Failed, Crashed = outcomes.TryDequeue(out bool crashed) && crashed };
        var agent = Sys.ActorOf(NodeAgent.Props("n1", ["cpu"], scheduler, runner));
        scheduler.ExpectMsg<SlotFree>();
        for (int i = 0; i < 6; i++)
        {
            agent.Tell(Run($"j{i}", 0));
            scheduler.ExpectMsg<JobFinished>().JobId.ShouldBe($"j{i}");
            if (i < 5) scheduler.ExpectMsg<SlotFree>(); // two crashes, a success, then two more crashes: still offered
        }
        scheduler.ExpectNoMsg(TimeSpan.FromMilliseconds(300)); // the third crash in a row
    }

    [Fact]
    public async Task A_busy_slot_refuses_a_second_job_and_stopping_the_agent_cancels_the_running_one()
    {
        var scheduler = CreateTestProbe();
        var cancelled = new TaskCompletionSource();
        var started = 0;
        JobRunner runner = (job, _, _, _, signals) =>
        {
            Interlocked.Increment(ref started);
            signals.Cancellation.WaitHandle.WaitOne(TimeSpan.FromSeconds(30));
            if (signals.Cancellation.IsCancellationRequested) cancelled.TrySetResult();
            return new TrialSummary { Name = job.JobId, Status = TrialStatus.Cancelled };
        };
        var agent = Sys.ActorOf(NodeAgent.Props("n1", ["cpu"], scheduler, runner));
        scheduler.ExpectMsg<SlotFree>();
        agent.Tell(Run("long", 0));
        AwaitCondition(() => Volatile.Read(ref started) == 1);
        agent.Tell(Run("second", 0));
        scheduler.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        Volatile.Read(ref started).ShouldBe(1);

        Sys.Stop(agent);
        await cancelled.Task.WaitAsync(TimeSpan.FromSeconds(10)); // throws TimeoutException when the running job was not cancelled
    }
}
