using Google.Protobuf;
using Orchestrator.Coordinator.Cluster;
using Orchestrator.Coordinator.Results;
using Orchestrator.Coordinator.Search;
using Orchestrator.Coordinator.State;
using Orchestrator.Protocol.V1;
using Shouldly;

namespace Orchestrator.Coordinator.Tests;

/// <summary>
/// Early termination (hyperband, by point) and metric.target on the sweep's state machine alone, with bands and
/// thresholds computed by hand; W&amp;B's own documented example among them.
/// </summary>
public sealed class SweepStoppingTests
{
    [Fact]
    public void Bands_are_those_wandb_documents()
    {
        Hyperband.Bands(minIter: null, maxIter: 27, s: 2, eta: 3, epochs: 100).ShouldBe([3, 9]); // 27/3, 27/9
        Hyperband.Bands(minIter: 3, maxIter: null, s: null, eta: 3, epochs: 27).ShouldBe([3, 9, 27]);
        Hyperband.Bands(minIter: 3, maxIter: null, s: null, eta: 3, epochs: 26).ShouldBe([3, 9]); // 27 is beyond the longest student
        Hyperband.Bands(minIter: null, maxIter: 5, s: 2, eta: 2, epochs: 10).ShouldBe([1, 2]); // int(2.5), int(1.25): wandb's docstring example
        Hyperband.Bands(minIter: null, maxIter: 5, s: 4, eta: 2, epochs: 10).ShouldBe([1, 2]); // 5/8 < 1: no band
        Hyperband.Bands(minIter: 2, maxIter: null, s: null, eta: 1.5, epochs: 6).ShouldBe([2, 3, 4]); // 2, 3, 4.5, 6.75 > 6
    }

    [Fact]
    public void The_threshold_is_the_value_at_floor_n_over_eta_best_first()
    {
        Hyperband.Threshold([0.70, 0.90, 0.80], eta: 3, maximize: true).ShouldBe(0.80); // index 1: the best 2 of 3 stay
        Hyperband.Threshold([0.5], eta: 3, maximize: true).ShouldBe(0.5); // alone at a band: nobody to be worse than
        Hyperband.Threshold([.1, .2, .3, .4, .5, .6, .7, .8, .9], eta: 3, maximize: true).ShouldBe(.6); // index 3
        Hyperband.Threshold([10, 9, 8, 7, 6], eta: 2, maximize: false).ShouldBe(8); // index 2 of [6, 7, 8, 9, 10]
        Hyperband.Worse(0.79, 0.80, maximize: true).ShouldBeTrue();
        Hyperband.Worse(0.80, 0.80, maximize: true).ShouldBeFalse(); // equal stays
        Hyperband.Worse(9, 8, maximize: false).ShouldBeTrue();
    }

    /// <summary>Students only: one per point and seed, point p's parameter alpha = p.</summary>
    static SubmitSweep Sweep(int points, int seeds, IReadOnlyList<int> bands, double eta, bool strict = false, bool maximize = true, double? target = null)
    {
        var submit = new SubmitSweep
        {
            SweepId = "s", Name = "s", Metric = maximize ? "val_accuracy" : "val_loss", Maximize = maximize, OutputRoot = "/out",
        };
        if (bands.Count > 0) submit.EarlyTermination = new EarlyTermination { Bands = { bands }, Eta = eta, Strict = strict };
        if (target is { } t) submit.Target = t;
        for (int p = 0; p < points; p++)
            for (int seed = 0; seed < seeds; seed++)
                submit.Jobs.Add(new PlannedJob { JobId = Id(p, seed), Kind = JobKind.Student, WorkJson = "{}", Seed = seed, Epochs = 9, Parameters = { ["alpha"] = $"{p}" } });
        return submit;
    }

    static string Id(int point, int seed = 0) => $"trial-{point}-{seed}";

    static string Point(int point) => SweepResults.PointKey([new("alpha", $"{point}")]);

    static void Run(SweepState state, IReadOnlyList<IMessage> events)
    {
        foreach (var e in events) state.Apply(e);
    }

    static SweepState Submitted(SubmitSweep sweep)
    {
        var state = new SweepState("s");
        Run(state, state.Decide(sweep).Events);
        return state;
    }

    static void Start(SweepState state, string job) => Run(state, state.Decide(new JobAssigned { SweepId = "s", JobId = job, Node = "n", Slot = 0 }).Events);

    /// <summary>An epoch as the entity takes it: measured and applied.</summary>
    static void Measure(SweepState state, string job, int epoch, double value, bool maximize = true)
    {
        var metrics = maximize ? new EpochMetrics { Epoch = epoch, ValidationAccuracy = value } : new EpochMetrics { Epoch = epoch, ValidationLoss = value };
        Run(state, state.Decide(new JobProgress { SweepId = "s", JobId = job, Metrics = metrics }).Events);
    }

    /// <summary>An epoch, and at a band the stops it leads to, applied; returns those.</summary>
    static IReadOnlyList<PointStopped> Epoch(SweepState state, string job, int epoch, double value)
    {
        Measure(state, job, epoch, value);
        if (!state.IsBand(epoch)) return [];
        var stops = state.DecideStops();
        Run(state, stops);
        return stops.Cast<PointStopped>().ToList();
    }

    static void Finish(SweepState state, string job, TrialStatus status, double validation, int bestEpoch = 3)
    {
        var summary = new TrialSummary { Name = job, Status = status, BestValidationAccuracy = validation, BestValidationLoss = validation, BestEpoch = bestEpoch, TestAccuracy = validation - 0.01 };
        Run(state, state.Decide(new JobFinished { SweepId = "s", JobId = job, Summary = summary }).Events);
    }

    [Fact]
    public void Wandbs_docstring_example_stops_the_two_runs_it_says_and_keeps_the_one_at_the_threshold()
    {
        // hyperband_stop_runs' example, judged at once as W&B does: loss, max_iter 5, s 2, eta 2. W&B's bands 1 and 2
        // are history indexes, here the 2nd and 3rd epochs. a and e finished; b, c, d run. b's best (10) is above
        // band 2's threshold (8 of [6, 7, 8, 9, 10]); c passes band 2 but its best (8) is above band 3's (7 of
        // [6, 7, 8]); d's best is 7, equal: it stays.
        var histories = new[] { new[] { 10.0, 9 }, [10, 10], [10, 8, 8], [10, 7, 7], [10, 6, 6] };
        var state = Submitted(Sweep(points: 5, seeds: 1, bands: [2, 3], eta: 2, maximize: false));
        for (int run = 0; run < 5; run++)
        {
            Start(state, Id(run));
            for (int e = 0; e < histories[run].Length; e++) Measure(state, Id(run), e + 1, histories[run][e], maximize: false);
            if (run is 0 or 4) Finish(state, Id(run), TrialStatus.Completed, histories[run].Min());
        }
        var stopped = state.DecideStops().Cast<PointStopped>().ToList();

        stopped.Select(s => s.Point).ShouldBe([Point(1), Point(2)]);
        stopped[0].Reason.ShouldBe("stopped by hyperband at epoch 2: best val_loss 10.000 above 8.000, band 2 of 5 points");
        stopped[1].Reason.ShouldBe("stopped by hyperband at epoch 3: best val_loss 8.000 above 7.000, band 3 of 3 points");
        Run(state, stopped);
        state.StatusOf(Id(3)).StopReason.ShouldBeEmpty();
        // Running, they stop after their batch; another attempt would only report the best checkpoint.
        (state.StatusOf(Id(1)).State, state.Spec(Id(1)).StopReason).ShouldBe((JobState.Running, stopped[0].Reason));
        state.DecideStops().ShouldBeEmpty(); // stopped once
    }

    [Fact]
    public void A_point_is_judged_on_the_mean_of_its_seeds_and_stopping_it_stops_every_seed()
    {
        // 3 points x 2 seeds, one band at epoch 1, eta 3: of 2 points the best stays, of 3 the best 2.
        var state = Submitted(Sweep(points: 3, seeds: 2, bands: [1], eta: 3));
        foreach (string job in new[] { Id(0, 0), Id(0, 1), Id(1, 0), Id(2, 0) }) Start(state, job);
        Epoch(state, Id(0, 0), 1, 0.90).ShouldBeEmpty(); // alone at the band
        Epoch(state, Id(0, 1), 1, 0.70).ShouldBeEmpty(); // point 0's mean: 0.80
        var first = Epoch(state, Id(1, 0), 1, 0.85).ShouldHaveSingleItem(); // threshold 0.85 of [0.85, 0.80]: point 0, though its seed 0 measured 0.90
        (first.Point, first.Reason).ShouldBe((Point(0), "stopped by hyperband at epoch 1: best val_accuracy 0.800 below 0.850, band 1 of 2 points"));
        var second = Epoch(state, Id(2, 0), 1, 0.60).ShouldHaveSingleItem(); // threshold 0.80 of [0.85, 0.80, 0.60]
        second.Point.ShouldBe(Point(2));

        // Running seeds stop after their batch; a seed that never started never runs.
        (state.StatusOf(Id(0, 0)).State, state.StatusOf(Id(0, 1)).State, state.StatusOf(Id(2, 0)).State).ShouldBe((JobState.Running, JobState.Running, JobState.Running));
        state.StatusOf(Id(2, 1)).State.ShouldBe(JobState.Stopped);
        state.StatusOf(Id(2, 1)).StopReason.ShouldBe(second.Reason);
        state.CanRun(Id(2, 1)).ShouldBeFalse();
        Finish(state, Id(2, 0), TrialStatus.Stopped, 0.60, bestEpoch: 1);
        var finished = state.StatusOf(Id(2, 0));
        (finished.State, finished.Summary.StopReason, finished.StopReason).ShouldBe((JobState.Stopped, second.Reason, second.Reason));
        (state.Count(JobState.Stopped), state.Counts().Stopped).ShouldBe((2, 2));

        // Point 1's second seed at 0.95: its mean 0.90 is the best of [0.90, 0.80, 0.60].
        Start(state, Id(1, 1));
        Epoch(state, Id(1, 1), 1, 0.95).ShouldBeEmpty();
        Epoch(state, Id(1, 1), 2, 0.10).ShouldBeEmpty(); // no band at epoch 2
        Epoch(state, Id(1, 1), 1, 0.10).ShouldBeEmpty(); // an epoch measured before (a resumed attempt): nothing changes
    }

    [Fact]
    public void Strict_judges_the_value_at_the_band_and_not_strict_the_best_so_far()
    {
        foreach (bool strict in new[] { true, false })
        {
            var state = Submitted(Sweep(points: 3, seeds: 1, bands: [2], eta: 3, strict: strict));
            foreach (int point in new[] { 0, 1, 2 }) Start(state, Id(point));
            Epoch(state, Id(0), 1, 0.50);
            Epoch(state, Id(0), 2, 0.90).ShouldBeEmpty();
            Epoch(state, Id(1), 1, 0.50);
            Epoch(state, Id(1), 2, 0.90).ShouldBeEmpty(); // equal to the threshold: stays
            Epoch(state, Id(2), 1, 0.95); // its best so far ...
            var stops = Epoch(state, Id(2), 2, 0.60); // ... and its value at the band: threshold 0.90 of [0.90, 0.90, 0.60]
            stops.Select(s => s.Point).ShouldBe(strict ? [Point(2)] : []);
            if (strict) stops[0].Reason.ShouldBe("stopped by hyperband at epoch 2: val_accuracy 0.600 below 0.900, band 2 of 3 points");
        }
    }

    [Fact]
    public void Only_the_current_attempts_epochs_count_and_only_in_a_sweep_with_early_terminate()
    {
        var state = Submitted(Sweep(points: 2, seeds: 1, bands: [1], eta: 3));
        Start(state, Id(0));
        state.Decide(new JobProgress { SweepId = "s", JobId = Id(0), Attempt = 7, Metrics = new EpochMetrics { Epoch = 1 } }).ShouldBe(Decision.None);
        state.Decide(new JobProgress { SweepId = "s", JobId = Id(0), Metrics = new EpochMetrics { Epoch = 1 } }).Events.Single().ShouldBeOfType<EpochMeasured>();

        var plain = Submitted(Sweep(points: 2, seeds: 1, bands: [], eta: 3));
        plain.Decide(new JobProgress { SweepId = "s", JobId = Id(0), Metrics = new EpochMetrics { Epoch = 1 } }).ShouldBe(Decision.None);
        plain.IsBand(1).ShouldBeFalse();
        plain.DecideStops().ShouldBeEmpty();
    }

    [Fact]
    public void A_stopped_job_that_loses_its_node_runs_again_only_to_report_its_best_checkpoint()
    {
        var state = Submitted(Sweep(points: 3, seeds: 1, bands: [1], eta: 3));
        foreach (int point in new[] { 0, 1, 2 }) Start(state, Id(point));
        Epoch(state, Id(0), 1, 0.9);
        Epoch(state, Id(1), 1, 0.9);
        string reason = Epoch(state, Id(2), 1, 0.1).Single().Reason;
        var lost = state.Decide(new JobLost { SweepId = "s", JobId = Id(2), Reason = "node n left" });
        Run(state, lost.Events);
        lost.HandOver.ShouldBe([Id(2)]);
        (state.StatusOf(Id(2)).State, state.CanRun(Id(2)), state.Spec(Id(2)).StopReason).ShouldBe((JobState.Queued, true, reason));
        state.DecideStops().ShouldBeEmpty();
        Start(state, Id(2));
        Finish(state, Id(2), TrialStatus.Stopped, 0.1, bestEpoch: 1);
        (state.StatusOf(Id(2)).State, state.Complete).ShouldBe((JobState.Stopped, false));
    }

    [Fact]
    public void Stops_and_measurements_survive_a_snapshot_and_decide_the_same_afterwards()
    {
        var state = Submitted(Sweep(points: 4, seeds: 2, bands: [1, 3], eta: 3));
        foreach (int point in new[] { 0, 1, 2 }) Start(state, Id(point, 0));
        Epoch(state, Id(0, 0), 1, 0.9);
        Epoch(state, Id(1, 0), 1, 0.9);
        Epoch(state, Id(2, 0), 1, 0.1).ShouldHaveSingleItem();
        Epoch(state, Id(0, 0), 2, 0.95);

        var restored = new SweepState("s");
        restored.Restore(SweepSnapshot.Parser.ParseFrom(state.Snapshot().ToByteArray()));
        restored.Status().ShouldBe(state.Status());
        restored.Spec(Id(2, 0)).StopReason.ShouldBe(state.Spec(Id(2, 0)).StopReason);
        restored.DecideStops().ShouldBeEmpty(); // stopped once, not again

        // The same epochs from here decide the same on both.
        foreach (var s in new[] { state, restored })
        {
            Start(s, Id(3, 0));
            Epoch(s, Id(3, 0), 1, 0.9).ShouldBeEmpty(); // threshold 0.9 of [0.9, 0.9, 0.9, 0.1]
            Epoch(s, Id(0, 0), 3, 0.97).ShouldBeEmpty(); // alone at band 3
            Epoch(s, Id(1, 0), 3, 0.50).Select(p => p.Point).ShouldBe([Point(1)]); // threshold 0.97 of [0.97, 0.50]
        }
        restored.Status().ShouldBe(state.Status());
    }

    [Fact]
    public void Reaching_the_target_stops_the_points_that_have_not_started_and_lets_started_ones_finish()
    {
        var state = Submitted(Sweep(points: 4, seeds: 2, bands: [], eta: 3, target: 0.9));
        foreach (string job in new[] { Id(0, 0), Id(0, 1), Id(1, 0) }) Start(state, job);
        Finish(state, Id(0, 0), TrialStatus.Completed, 0.96);
        state.DecideTarget(Id(0, 0)).ShouldBeEmpty(); // its other seed still runs
        Finish(state, Id(0, 1), TrialStatus.Completed, 0.88);
        var reached = state.DecideTarget(Id(0, 1)).Single().ShouldBeOfType<TargetReached>(); // mean 0.92
        reached.Point.ShouldBe(Point(0));
        reached.Mean.ShouldBe(0.92, 1e-12);
        state.Apply(reached).StoppedJobs.ShouldBe([Id(2, 0), Id(2, 1), Id(3, 0), Id(3, 1)]);
        state.StatusOf(Id(3, 1)).StopReason.ShouldBe($"not run: point {Point(0)} reached metric.target (val_accuracy 0.920)");
        (state.StatusOf(Id(1, 0)).State, state.CanRun(Id(1, 1))).ShouldBe((JobState.Running, true)); // point 1 had started
        state.DecideTarget(null).ShouldBeEmpty(); // once

        var restored = new SweepState("s");
        restored.Restore(SweepSnapshot.Parser.ParseFrom(state.Snapshot().ToByteArray()));
        restored.Status().ShouldBe(state.Status());
        restored.DecideTarget(null).ShouldBeEmpty();
    }
}
