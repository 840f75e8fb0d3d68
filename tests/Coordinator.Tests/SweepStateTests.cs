using Google.Protobuf;
using Orchestrator.Coordinator.Cluster;
using Orchestrator.Coordinator.Results;
using Orchestrator.Coordinator.State;
using Orchestrator.Protocol.V1;
using Shouldly;

namespace Orchestrator.Coordinator.Tests;

/// <summary>The sweep's state machine alone: decisions and events, no actor, no journal, no waiting.</summary>
public sealed class SweepStateTests
{
    /// <summary>teacher -> soft-targets -> trial-a; trial-b waits for both; trial-c waits for nothing.</summary>
    static SubmitSweep Sweep() => new()
    {
        SweepId = "s", Name = "s", Metric = "val_accuracy", Maximize = true, OutputRoot = "/out", SoftTargetStore = "/store",
        Jobs =
        {
            new PlannedJob { JobId = "teacher", Kind = JobKind.Teacher, WorkJson = "{}" },
            new PlannedJob { JobId = "soft-targets", Kind = JobKind.SoftTargets, WorkJson = "{}", DependsOn = { "teacher" } },
            new PlannedJob { JobId = "trial-a", Kind = JobKind.Student, WorkJson = "{}", DependsOn = { "soft-targets" } },
            new PlannedJob { JobId = "trial-b", Kind = JobKind.Student, WorkJson = "{}", DependsOn = { "soft-targets", "teacher" } },
            new PlannedJob { JobId = "trial-c", Kind = JobKind.Student, WorkJson = "{}" },
        },
    };

    static JobFinished Finished(string job, TrialStatus status, bool crashed = false) => new()
    {
        SweepId = "s", JobId = job, Summary = new TrialSummary { Name = job, Status = status, FailureReason = status == TrialStatus.Failed ? "boom" : "", Crashed = crashed },
    };

    static JobFinished Scored(JobFinished finished, Random random)
    {
        finished.Summary.BestValidationAccuracy = Math.Round(random.NextDouble(), 2); // ties happen
        finished.Summary.TestAccuracy = random.NextDouble();
        return finished;
    }

    /// <summary>Applies the decision's events, as the entity does once they are stored; returns it.</summary>
    static Decision Run(SweepState state, Decision decision)
    {
        foreach (var e in decision.Events) state.Apply(e);
        return decision;
    }

    static SweepState Submitted()
    {
        var state = new SweepState("s");
        Run(state, state.Decide(Sweep()));
        return state;
    }

    static JobState StateOf(SweepState state, string job) => state.StatusOf(job).State;

    [Fact]
    public void Submitting_hands_over_the_jobs_that_wait_for_nothing_and_each_completion_the_dependents_it_unblocks()
    {
        var state = new SweepState("s");
        var submit = Run(state, state.Decide(Sweep()));
        submit.Events.Single().ShouldBeOfType<SweepSubmitted>();
        submit.HandOver.ShouldBe(["teacher", "trial-c"]);
        (state.JobCount, state.Count(JobState.Queued), state.Complete).ShouldBe((5, 5, false));

        Run(state, state.Decide(Finished("teacher", TrialStatus.Completed))).HandOver.Where(state.CanRun).ShouldBe(["soft-targets"]); // trial-b still waits for soft-targets
        Run(state, state.Decide(Finished("soft-targets", TrialStatus.Completed))).HandOver.Where(state.CanRun).ShouldBe(["trial-a", "trial-b"]);
        state.Spec("trial-a").OutputDirectory.ShouldBe(Path.Combine("/out", "trial-a"));
        state.Spec("trial-a").SoftTargetStore.ShouldBe("/store");
        foreach (string job in new[] { "trial-a", "trial-b", "trial-c" }) Run(state, state.Decide(Finished(job, TrialStatus.Completed)));
        (state.Count(JobState.Done), state.Complete, state.Accepted().AlreadyDone).ShouldBe((5, true, 5));
    }

    [Fact]
    public void A_job_is_handed_over_once_its_last_dependency_is_applied_even_when_both_completions_were_decided_before_either()
    {
        // The entity persists job events asynchronously: the second completion is decided before the first is applied.
        var state = Submitted();
        Run(state, state.Decide(Finished("teacher", TrialStatus.Completed)));
        var softTargets = state.Decide(Finished("soft-targets", TrialStatus.Completed));
        var teacherAgain = state.Decide(Finished("teacher", TrialStatus.Completed));
        teacherAgain.ShouldBe(Decision.None); // finished already
        Run(state, softTargets).HandOver.Where(state.CanRun).ShouldBe(["trial-a", "trial-b"]);

        var shards = new SweepState("s");
        var sweep = new SubmitSweep { SweepId = "s", Name = "s", OutputRoot = "/out" };
        sweep.Jobs.Add(new PlannedJob { JobId = "shard-1", Kind = JobKind.SoftTargetShard });
        sweep.Jobs.Add(new PlannedJob { JobId = "shard-2", Kind = JobKind.SoftTargetShard });
        sweep.Jobs.Add(new PlannedJob { JobId = "aggregate", Kind = JobKind.SoftTargets, DependsOn = { "shard-1", "shard-2" } });
        Run(shards, shards.Decide(sweep));
        var first = shards.Decide(Finished("shard-1", TrialStatus.Completed));
        var second = shards.Decide(Finished("shard-2", TrialStatus.Completed));
        Run(shards, first).HandOver.Where(shards.CanRun).ShouldBeEmpty();
        Run(shards, second).HandOver.Where(shards.CanRun).ShouldBe(["aggregate"]);
    }

    [Fact]
    public void A_failure_fails_every_job_that_waits_for_it_in_the_same_decision_with_the_chain_of_reasons()
    {
        var state = Submitted();
        var decision = Run(state, state.Decide(Finished("teacher", TrialStatus.Failed)));
        decision.Events.Cast<JobCompleted>().Select(e => e.JobId).ShouldBe(["teacher", "soft-targets", "trial-b", "trial-a"]);
        decision.HandOver.ShouldBeEmpty();
        state.StatusOf("soft-targets").Summary.FailureReason.ShouldBe("teacher failed: boom");
        state.StatusOf("trial-a").Summary.FailureReason.ShouldBe("soft-targets failed: teacher failed: boom");
        state.StatusOf("trial-b").Summary.FailureReason.ShouldBe("teacher failed: boom"); // failed through its first failed dependency, once
        (state.Count(JobKind.Student, JobState.Failed), state.Count(JobKind.Student, JobState.Queued), state.Count(JobState.Failed)).ShouldBe((2, 1, 4));
        state.Runnable().ShouldBe(["trial-c"]);
    }

    [Fact]
    public void A_crashed_job_runs_again_twice_and_fails_at_its_third_crash_and_a_job_its_node_cancelled_runs_again()
    {
        var state = Submitted();
        for (int crash = 1; crash < SweepState.MaxCrashes; crash++)
        {
            var again = Run(state, state.Decide(Finished("trial-c", TrialStatus.Failed, crashed: true)));
            again.Events.Single().ShouldBeOfType<JobRequeued>().Crashed.ShouldBeTrue();
            again.HandOver.ShouldBe(["trial-c"]);
        }
        var last = Run(state, state.Decide(Finished("trial-c", TrialStatus.Failed, crashed: true)));
        last.Events.Single().ShouldBeOfType<JobCompleted>().Summary.FailureReason.ShouldBe("boom (its process crashed 3 times; not run again)");
        StateOf(state, "trial-c").ShouldBe(JobState.Failed);

        var cancelledByNode = Run(state, state.Decide(Finished("teacher", TrialStatus.Cancelled)));
        cancelledByNode.Events.Single().ShouldBeOfType<JobRequeued>().Crashed.ShouldBeFalse();
        cancelledByNode.HandOver.ShouldBe(["teacher"]);
    }

    [Fact]
    public void A_lost_job_is_queued_again_and_handed_over_as_a_new_attempt()
    {
        var state = Submitted();
        Run(state, state.Decide(new JobAssigned { SweepId = "s", JobId = "teacher", Node = "n1", Slot = 2 }));
        (StateOf(state, "teacher"), state.Placement("teacher")).ShouldBe((JobState.Running, ("n1", 2)));
        var lost = Run(state, state.Decide(new JobLost { SweepId = "s", JobId = "teacher", Reason = "node n1 left" }));
        (lost.Events.Count, StateOf(state, "teacher")).ShouldBe((1, JobState.Queued));
        lost.HandOver.ShouldBe(["teacher"]);
        state.Decide(new JobLost { SweepId = "s", JobId = "nope" }).ShouldBe(Decision.None);
    }

    [Fact]
    public void Every_attempt_gets_a_number_never_given_before_even_after_a_restart_and_only_the_current_attempt_counts()
    {
        var journal = new List<IMessage>();
        var live = new SweepState("s");
        void Record(Decision decision) => journal.AddRange(Run(live, decision).Events);
        EnqueueJob Attempt(SweepState state, string job)
        {
            if (state.AttemptsNeeded() is { } reserve)
            {
                state.Apply(reserve);
                if (state == live) journal.Add(reserve);
            }
            return state.NextAttempt(job);
        }
        Record(live.Decide(Sweep()));
        Should.Throw<InvalidOperationException>(() => live.NextAttempt("teacher")); // none reserved yet
        var first = Attempt(live, "teacher");
        (first.Job.Attempt, first.Resume).ShouldBe((1, false));
        Attempt(live, "trial-c").Job.Attempt.ShouldBe(2);
        Record(live.Decide(new JobAssigned { SweepId = "s", JobId = "teacher", Node = "n1", Attempt = 1 }));
        Record(live.Decide(new JobLost { SweepId = "s", JobId = "teacher", Attempt = 1, Reason = "node n1 left" }));
        var second = Attempt(live, "teacher");
        (second.Job.Attempt, second.Resume).ShouldBe((3, true)); // it ran before: it resumes ahead of new jobs

        // The first attempt's node comes back and reports: nothing changes.
        live.Decide(new JobAssigned { SweepId = "s", JobId = "teacher", Node = "n1", Attempt = 1 }).ShouldBe(Decision.None);
        live.Decide(new JobFinished { SweepId = "s", JobId = "teacher", Attempt = 1, Summary = new TrialSummary { Status = TrialStatus.Completed } })
            .ShouldBe(Decision.None);
        live.Decide(new JobLost { SweepId = "s", JobId = "teacher", Attempt = 1 }).ShouldBe(Decision.None);
        Record(live.Decide(new JobFinished { SweepId = "s", JobId = "teacher", Attempt = 3, Summary = new TrialSummary { Status = TrialStatus.Completed } }));
        StateOf(live, "teacher").ShouldBe(JobState.Done);

        foreach (var restarted in new[] { Replayed(journal), Restored(live) })
        {
            restarted.Recovered();
            restarted.IsCurrent("trial-c", 2).ShouldBeFalse(); // handed over by the old incarnation
            var next = Attempt(restarted, "trial-c");
            next.Job.Attempt.ShouldBe(JobGraph.AttemptBlock + 1); // above all the old incarnation reserved
            restarted.IsCurrent("trial-c", next.Job.Attempt).ShouldBeTrue();
            restarted.Decide(new JobFinished { SweepId = "s", JobId = "trial-c", Attempt = 2, Summary = new TrialSummary { Status = TrialStatus.Completed } })
                .ShouldBe(Decision.None);
        }
    }

    static SweepState Replayed(IEnumerable<IMessage> journal)
    {
        var state = new SweepState("s");
        foreach (var e in journal) state.Apply(e);
        return state;
    }

    static SweepState Restored(SweepState from)
    {
        var state = new SweepState("s");
        state.Restore(SweepSnapshot.Parser.ParseFrom(from.Snapshot().ToByteArray()));
        return state;
    }

    [Fact]
    public void Cancelling_cancels_every_unfinished_job_and_submitting_again_resumes_those_whose_dependencies_are_done()
    {
        var state = Submitted();
        Run(state, state.Decide(Finished("teacher", TrialStatus.Completed)));
        var cancel = Run(state, state.Decide(new CancelSweep { SweepId = "s", Reason = "enough" }));
        cancel.Reply.ShouldBeOfType<SweepCancelAccepted>().Cancelled.ShouldBe(4);
        (state.Complete, state.Count(JobState.Cancelled), state.Runnable().Count).ShouldBe((true, 4, 0));
        state.Decide(Finished("trial-c", TrialStatus.Cancelled)).ShouldBe(Decision.None); // its node stopped it: not queued again
        state.Decide(new CancelSweep { SweepId = "s" }).Reply.ShouldBeOfType<SweepCancelAccepted>().WasRunning.ShouldBeFalse();

        var resume = Run(state, state.Decide(Sweep()));
        resume.Events.Single().ShouldBeOfType<SweepResumed>();
        resume.HandOver.ShouldBe(["soft-targets", "trial-c"]);
        (state.Count(JobState.Queued), state.Count(JobState.Done), state.Complete).ShouldBe((4, 1, false));
    }

    [Fact]
    public void Refusals_are_replies_that_change_nothing()
    {
        var empty = new SweepState("s");
        var notFound = empty.Decide(new CancelSweep { SweepId = "s" });
        (notFound.Events.Count, notFound.Reply.ShouldBeOfType<SweepRejected>().Reason).ShouldBe((0, SweepRejected.Types.Reason.NotFound));

        var state = Submitted();
        var changed = Sweep();
        changed.Jobs.RemoveAt(4);
        var conflict = state.Decide(changed);
        conflict.Events.ShouldBeEmpty();
        conflict.Reply.ShouldBeOfType<SweepRejected>().Message.ShouldContain("was submitted before with other trials");
        state.JobCount.ShouldBe(5);
    }

    [Fact]
    public void After_a_replay_the_jobs_that_were_running_are_queued_and_every_runnable_one_is_handed_over()
    {
        var journal = new List<IMessage>();
        var live = new SweepState("s");
        void Record(Decision decision) => journal.AddRange(Run(live, decision).Events);
        Record(live.Decide(Sweep()));
        Record(live.Decide(new JobAssigned { SweepId = "s", JobId = "trial-c", Node = "n1", Slot = 0 }));
        Record(live.Decide(Finished("trial-c", TrialStatus.Completed)));
        Record(live.Decide(new JobAssigned { SweepId = "s", JobId = "teacher", Node = "n1", Slot = 1 }));

        var replayed = new SweepState("s");
        foreach (var e in journal) replayed.Apply(e);
        StateOf(replayed, "teacher").ShouldBe(JobState.Running);
        replayed.Recovered();
        (StateOf(replayed, "teacher"), replayed.Count(JobState.Running), replayed.Count(JobState.Queued)).ShouldBe((JobState.Queued, 0, 4));
        replayed.Runnable().ShouldBe(["teacher"]);
        replayed.DecideAfterRecovery().ShouldBeEmpty();
    }

    [Fact]
    public void A_state_restored_from_its_snapshot_is_the_same_and_goes_on_the_same()
    {
        var state = Submitted();
        Run(state, state.Decide(new JobAssigned { SweepId = "s", JobId = "teacher", Node = "n1", Slot = 3 }));
        Run(state, state.Decide(Finished("trial-c", TrialStatus.Failed, crashed: true)));
        Run(state, state.Decide(Finished("teacher", TrialStatus.Completed)));
        Run(state, state.Decide(new CancelSweep { SweepId = "s", Reason = "later" }));

        var snapshot = SweepSnapshot.Parser.ParseFrom(state.Snapshot().ToByteArray()); // as the snapshot store keeps it
        SweepSnapshotCodec.MovedJobs(snapshot).Count().ShouldBe(5); // teacher done; the others cancelled
        var restored = new SweepState("s");
        restored.Restore(snapshot);
        restored.Status().ShouldBe(state.Status());
        foreach (var jobState in Enum.GetValues<JobState>()) restored.Count(jobState).ShouldBe(state.Count(jobState));

        var resumed = Run(restored, restored.Decide(Sweep()));
        resumed.HandOver.ShouldBe(Run(state, state.Decide(Sweep())).HandOver);
        restored.Status().ShouldBe(state.Status());
        Run(restored, restored.Decide(Finished("trial-c", TrialStatus.Failed, crashed: true)));
        Run(restored, restored.Decide(Finished("trial-c", TrialStatus.Failed, crashed: true)));
        StateOf(restored, "trial-c").ShouldBe(JobState.Failed); // its first crash came through the snapshot
    }

    [Fact]
    public void The_counters_and_the_best_point_agree_with_the_jobs_after_any_sequence_of_commands()
    {
        var random = new Random(7);
        var sweep = new SubmitSweep { SweepId = "s", Name = "s", OutputRoot = "/out", Metric = "val_accuracy", Maximize = true };
        for (int i = 0; i < 200; i++)
        {
            var job = new PlannedJob { JobId = $"j{i}", Kind = (JobKind)(1 + i % 4), Parameters = { ["alpha"] = $"{i % 7}" } };
            if (i >= 10) job.DependsOn.Add($"j{random.Next(i)}");
            sweep.Jobs.Add(job);
        }
        var state = new SweepState("s");
        Run(state, state.Decide(sweep));
        var statuses = new[] { TrialStatus.Completed, TrialStatus.Failed, TrialStatus.Cancelled, TrialStatus.EarlyStopped };
        for (int step = 0; step < 2000; step++)
        {
            string job = $"j{random.Next(200)}";
            Run(state, random.Next(6) switch
            {
                0 => state.Decide(new JobAssigned { SweepId = "s", JobId = job, Node = "n" }),
                1 => state.Decide(new JobLost { SweepId = "s", JobId = job, Reason = "gone" }),
                2 => state.Decide(Finished(job, TrialStatus.Failed, crashed: true)),
                3 when random.Next(50) == 0 => state.Decide(new CancelSweep { SweepId = "s" }),
                4 when random.Next(50) == 0 => state.Decide(sweep),
                _ => state.Decide(Scored(Finished(job, statuses[random.Next(statuses.Length)]), random)),
            });
            var scanned = state.Status().Jobs;
            foreach (var kind in new[] { JobKind.Teacher, JobKind.Student, JobKind.SoftTargetShard, JobKind.SoftTargets })
                foreach (var jobState in new[] { JobState.Queued, JobState.Running, JobState.Done, JobState.Failed, JobState.Cancelled })
                    state.Count(kind, jobState).ShouldBe(scanned.Count(j => j.Kind == kind && j.State == jobState), $"{kind} {jobState} after step {step}");
            state.Complete.ShouldBe(scanned.All(j => JobStates.IsFinished(j.State)));
            var full = state.Status();
            (full.Counts.Done, full.TotalJobs).ShouldBe((scanned.Count(j => j.State == JobState.Done), 200));
            if (step % 100 == 0) TheSameRestored(state, full);
            var best = SweepResults.Best(full); // ranked from every job, as results.csv is
            if (best is null) full.Best.ShouldBeNull();
            else
            {
                full.Best.Parameters.ShouldBe(best.Parameters); // the same point, ties included
                full.Best.MetricMean.ShouldBe(best.MetricMean, 1e-12);
                full.Best.Runs.ShouldBe(best.Runs);
                full.Best.TestAccuracyMean.ShouldBe(best.TestMean, 1e-12);
                full.Best.MetricStd.ShouldBe(best.MetricStd, 1e-9); // running moments, not two passes: equal but for rounding
                full.Best.TestAccuracyStd.ShouldBe(best.TestStd, 1e-9);
            }
        }
    }

    /// <summary>
    /// A snapshot restores the same sweep, the best point's moments exactly; so does a snapshot written before the plan
    /// was kept as its bytes (its jobs parsed in the sweep, no points: they are counted again, the moments in another order).
    /// </summary>
    static void TheSameRestored(SweepState state, SweepStatus status)
    {
        var snapshot = SweepSnapshot.Parser.ParseFrom(state.Snapshot().ToByteArray());
        (snapshot.Sweep.Jobs.Count, snapshot.Plan.Count).ShouldBe((0, 1));
        var restored = new SweepState("s");
        restored.Restore(snapshot);
        restored.Status().ShouldBe(status);

        var before = snapshot.Clone();
        before.Sweep.Jobs.Add(snapshot.Plan.SelectMany(chunk => SweepJobsPlanned.Parser.ParseFrom(chunk).Jobs.Select(PlannedJob.Parser.ParseFrom)));
        before.Plan.Clear();
        before.Points.Clear();
        before.Jobs.Add(SweepSnapshotCodec.MovedJobs(snapshot));
        before.MovedJobs = ByteString.Empty;
        var fromBefore = new SweepState("s");
        fromBefore.Restore(SweepSnapshot.Parser.ParseFrom(before.ToByteArray()));
        var again = fromBefore.Status();
        (again.Jobs, again.Counts, again.ParameterNames).ShouldBe((status.Jobs, status.Counts, status.ParameterNames));
        again.Best?.Parameters.ShouldBe(status.Best.Parameters);
        again.Best?.MetricMean.ShouldBe(status.Best.MetricMean, 1e-12);
    }

    [Fact]
    public void Pages_of_jobs_are_in_results_order_and_together_are_every_job_once_even_after_the_plan_grew()
    {
        var random = new Random(3);
        var sweep = new SubmitSweep { SweepId = "s", Name = "s", Metric = "val_accuracy", Maximize = true, OutputRoot = "/out" };
        var kinds = new[] { JobKind.Student, JobKind.SoftTargetShard, JobKind.Teacher, JobKind.SoftTargets };
        var planned = Enumerable.Range(0, 2500).Select(i => new PlannedJob { JobId = $"j{random.Next(1_000_000):D7}-{i}", Kind = kinds[i % 4], WorkJson = "{}" }).ToList();
        sweep.Jobs.Add(planned.Take(2000));
        var state = new SweepState("s");
        Run(state, state.Decide(sweep));
        state.Status(0, 10).Jobs.Count.ShouldBe(10); // ordered now, before the rest of the plan arrives
        state.Apply(new SweepJobsPlanned { Jobs = { planned.Skip(2000).Select(j => j.ToByteString()) } });

        var paged = new List<JobStatus>();
        for (int offset = 0; ; offset += 300)
        {
            var page = state.Status(offset, 300);
            (page.TotalJobs, page.Counts.Queued).ShouldBe((2500, 2500)); // counts on every page, whatever its jobs
            if (page.Jobs.Count == 0) break;
            paged.AddRange(page.Jobs);
        }
        paged.Select(j => j.JobId).ShouldBe(SweepResults.InTableOrder(state.Status().Jobs).Select(j => j.JobId));
        paged.Select(j => j.JobId).Distinct().Count().ShouldBe(2500);
        paged.First().Kind.ShouldBe(JobKind.Teacher);
        state.Status(0, 0).Jobs.ShouldBeEmpty();
        state.Status(2499, 1000).Jobs.Count.ShouldBe(1);
    }

    static JobFinished DiskFull(string job)
    {
        var diskFull = Finished(job, TrialStatus.Failed);
        (diskFull.Summary.FailureReason, diskFull.Summary.Environmental) = ("No space left on device", true);
        return diskFull;
    }

    /// <summary>The teacher fails for the machine until its retries are spent (soft-targets, trial-a and trial-b fail with it); trial-c fails on its own (a NaN loss).</summary>
    static SweepState FailedByTheMachine()
    {
        var state = Submitted();
        for (int retry = 1; retry <= SweepState.MaxEnvironmentalRetries; retry++)
        {
            var again = Run(state, state.Decide(DiskFull("teacher")));
            again.Events.Single().ShouldBeOfType<JobRequeued>().Environmental.ShouldBeTrue();
            (again.HandOver.Single(), again.HandOverAfter).ShouldBe(("teacher", SweepState.RetryBackoff(retry)));
        }
        SweepState.RetryBackoff(3).ShouldBe(TimeSpan.FromSeconds(90));
        var failed = Run(state, state.Decide(DiskFull("teacher")));
        failed.Events.OfType<JobCompleted>().First().Summary.FailureReason.ShouldStartWith("No space left on device (the machine's failure, after 3 retries;");
        Run(state, state.Decide(Finished("trial-c", TrialStatus.Failed)));
        state.Complete.ShouldBeTrue();
        state.Count(JobState.Failed).ShouldBe(5);
        return state;
    }

    [Fact]
    public void Submitting_again_retries_what_the_machine_failed_and_what_failed_with_it_but_not_the_trials_own_failures()
    {
        var state = FailedByTheMachine();

        var again = Run(state, state.Decide(Sweep()));
        again.Events.OfType<JobRequeued>().Select(e => e.JobId).ShouldBe(["teacher", "soft-targets", "trial-a", "trial-b"]);
        again.HandOver.ShouldBe(["teacher"]); // the others wait for it, as the first time
        state.CanRun("teacher").ShouldBeTrue();
        state.CanRun("soft-targets").ShouldBeFalse(); // after the teacher, as the first time
        StateOf(state, "trial-c").ShouldBe(JobState.Failed);
        state.StatusOf("teacher").Summary.ShouldBeNull(); // the old failure is not its result any more
        (state.Count(JobState.Queued), state.Complete).ShouldBe((4, false));

        var snapshot = SweepSnapshot.Parser.ParseFrom(state.Snapshot().ToByteArray());
        var restored = new SweepState("s");
        restored.Restore(snapshot);
        restored.Status().ShouldBe(state.Status());
    }

    [Fact]
    public void Retry_runs_again_what_the_machine_failed_or_with_all_failed_every_failed_job_and_is_refused_while_cancelled()
    {
        var state = FailedByTheMachine();
        var retry = Run(state, state.Decide(new RetrySweep { SweepId = "s" }));
        retry.Reply.ShouldBeOfType<SweepRetryAccepted>().Retried.ShouldBe(4);
        retry.HandOver.ShouldBe(["teacher"]);
        StateOf(state, "trial-c").ShouldBe(JobState.Failed); // its own failure: it would fail the same
        Run(state, state.Decide(DiskFull("teacher"))).HandOverAfter.ShouldBe(SweepState.RetryBackoff(1)); // its retries start over

        var all = Run(state, state.Decide(new RetrySweep { SweepId = "s", AllFailed = true }));
        (all.Reply.ShouldBeOfType<SweepRetryAccepted>().Retried, all.HandOver.Single()).ShouldBe((1, "trial-c"));
        state.Count(JobState.Failed).ShouldBe(0);

        Run(state, state.Decide(new CancelSweep { SweepId = "s" }));
        var refused = state.Decide(new RetrySweep { SweepId = "s", AllFailed = true });
        (refused.Events.Count, refused.Reply.ShouldBeOfType<SweepRejected>().Reason).ShouldBe((0, SweepRejected.Types.Reason.Cancelled));
        new SweepState("s").Decide(new RetrySweep { SweepId = "s" }).Reply.ShouldBeOfType<SweepRejected>().Reason.ShouldBe(SweepRejected.Types.Reason.NotFound);
    }
}
