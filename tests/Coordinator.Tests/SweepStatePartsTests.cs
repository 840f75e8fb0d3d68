using Orchestrator.Coordinator.Results;
using Orchestrator.Coordinator.State;
using Orchestrator.Protocol.V1;
using Shouldly;

namespace Orchestrator.Coordinator.Tests;

/// <summary>Parts of a sweep's state alone: the dispatch window (moved out of the actor), the scoreboard's ranking, the job graph.</summary>
public sealed class SweepStatePartsTests
{
    /// <summary>A sweep of independent students.</summary>
    static SweepState Students(int count, bool maximize = true)
    {
        var submit = new SubmitSweep { SweepId = "s", Name = "s", Metric = "val_accuracy", Maximize = maximize, OutputRoot = "/out" };
        for (int i = 0; i < count; i++)
            submit.Jobs.Add(new PlannedJob { JobId = $"j{i}", Kind = JobKind.Student, WorkJson = "{}", Parameters = { ["alpha"] = $"{i % 3}" } });
        var state = new SweepState("s");
        foreach (var e in state.Decide(submit).Events) state.Apply(e);
        return state;
    }

    static void Apply(SweepState state, Decision decision)
    {
        foreach (var e in decision.Events) state.Apply(e);
    }

    [Fact]
    public void The_window_hands_over_at_most_its_size_reserves_attempt_numbers_first_and_takes_the_next_job_as_a_slot_takes_one()
    {
        var state = Students(5);
        state.Recovered();
        var window = new DispatchWindow(size: 2);
        window.Add(state.Runnable(), state);

        var first = window.TopUp(state);
        first.Attempts.ShouldBeEmpty(); // no attempt number is reserved yet
        state.Apply(first.Reserve!);
        window.TopUp(state).Attempts.ShouldBeEmpty(); // still reserving: nothing goes out until it is stored
        window.Reserved();

        window.TopUp(state).Attempts.Select(a => (a.Job.JobId, a.Job.Attempt)).ShouldBe([("j0", 1L), ("j1", 2L)]);
        window.Waiting.ShouldBe(2);
        window.TopUp(state).Attempts.ShouldBeEmpty(); // full

        window.Taken("j0").ShouldBeTrue();
        window.Taken("j0").ShouldBeFalse(); // once
        window.TopUp(state).Attempts.Single().Job.JobId.ShouldBe("j2");
        window.Ended("j1").ShouldBeTrue(); // lost before a slot took it: its place is free
        window.TopUp(state).Attempts.Single().Job.JobId.ShouldBe("j3");
    }

    [Fact]
    public void A_job_that_ran_before_goes_ahead_and_a_stopped_job_no_slot_took_leaves_the_window()
    {
        var state = Students(4);
        state.Recovered();
        Apply(state, state.Decide(new JobAssigned { SweepId = "s", JobId = "j3", Node = "n", Attempt = 0 })); // j3 started once
        state.Recovered();
        var window = new DispatchWindow(size: 10);
        window.Add(state.Runnable(), state);
        state.Apply(window.TopUp(state).Reserve!);
        window.Reserved();
        window.TopUp(state).Attempts.Select(a => (a.Job.JobId, a.Resume)).ShouldBe([("j3", true), ("j0", false), ("j1", false), ("j2", false)]);

        window.Stopped("j0", state).ShouldBeTrue(); // at the scheduler: the actor tells it to drop the job
        window.Waiting.ShouldBe(3);
        window.Stopped("nope", state).ShouldBeFalse();
        window.Clear();
        window.Waiting.ShouldBe(0);
        window.TopUp(state).Attempts.ShouldBeEmpty();
    }

    [Fact]
    public void The_scoreboard_ranks_points_by_their_mean_over_seeds_and_breaks_ties_by_plan_order()
    {
        foreach (bool maximize in new[] { true, false })
        {
            var state = Students(6, maximize);
            state.Recovered();
            // Points alpha=0 (j0, j3), alpha=1 (j1, j4), alpha=2 (j2, j5); alpha 1 and 2 tie on their means.
            var values = new Dictionary<string, double> { ["j0"] = 0.25, ["j3"] = 0.25, ["j1"] = 0.75, ["j4"] = 0.25, ["j2"] = 0.5, ["j5"] = 0.5 }; // exact in binary
            if (!maximize) values = values.ToDictionary(v => v.Key, v => 1 - v.Value);
            foreach (var (job, value) in values.Reverse())
            {
                var summary = new TrialSummary { Name = job, Status = TrialStatus.Completed, BestValidationAccuracy = value, BestEpoch = 1 };
                state.Apply(new JobCompleted { JobId = job, Summary = summary });
            }
            var best = state.Best()!;
            best.Parameters.ShouldBe(new Dictionary<string, string> { ["alpha"] = "1" }); // first in the plan of the two tied points
            best.Runs.ShouldBe(2);
            best.MetricMean.ShouldBe(0.5);
            // The results' ranking (results.csv, tables, the report, the API) is the same, ties and all.
            SweepResults.Recipes(state.Status()).Select(r => r.Parameters["alpha"]).ShouldBe(["1", "2", "0"]);
        }
    }

    [Fact]
    public void Points_tied_on_the_metric_are_ranked_by_validation_loss_and_the_best_says_it_won_a_tie()
    {
        var state = Students(6);
        state.Recovered();
        // Every point at 100 % validation accuracy, as an easy dataset gives; alpha=2 has the lowest validation loss, alpha=0 the highest.
        var losses = new Dictionary<string, double> { ["j0"] = 0.75, ["j3"] = 0.75, ["j1"] = 0.5, ["j4"] = 0.5, ["j2"] = 0.25, ["j5"] = 0.25 };
        foreach (var (job, loss) in losses)
            state.Apply(new JobCompleted { JobId = job, Summary = new TrialSummary { Name = job, Status = TrialStatus.Completed, BestValidationAccuracy = 1, BestValidationLoss = loss, BestEpoch = 1 } });

        var best = state.Best()!;
        (best.Parameters["alpha"], best.Tied, best.LossMean).ShouldBe(("2", 2, 0.25));
        SweepResults.Recipes(state.Status()).Select(r => (r.Parameters["alpha"], r.Tied)).ShouldBe([("2", 2), ("1", 2), ("0", 2)]);
        SweepResults.BestLine("s", "val_accuracy", best).ShouldEndWith("; a tie: 2 other point(s) have the same mean val_accuracy, and this one has the lowest validation loss (0.2500)");

        var restored = new SweepState("s"); // the tie-break survives a snapshot
        restored.Restore(state.Snapshot());
        restored.Best()!.Parameters["alpha"].ShouldBe("2");
    }

    [Fact]
    public void The_job_graph_counts_by_kind_and_state_as_jobs_move()
    {
        var state = Students(3);
        state.Count(JobKind.Student, JobState.Queued).ShouldBe(3);
        state.Recovered();
        Apply(state, state.Decide(new JobAssigned { SweepId = "s", JobId = "j1", Node = "n", Attempt = 0 }));
        (state.Count(JobState.Queued), state.Count(JobState.Running)).ShouldBe((2, 1));
        state.Apply(new JobCompleted { JobId = "j1", Summary = new TrialSummary { Status = TrialStatus.Failed, FailureReason = "boom" } });
        (state.Count(JobKind.Student, JobState.Failed), state.Counts().Running).ShouldBe((1, 0));
    }
}
