using Orchestrator.Coordinator.Commands;
using Orchestrator.Protocol.V1;
using Shouldly;

namespace Orchestrator.Coordinator.Tests;

/// <summary>The console's view of a running sweep, kept from its events alone.</summary>
public sealed class SweepProgressViewTests
{
    static JobCounts Counts(int queued, int running, int done, int failed = 0, int cancelled = 0) =>
        new() { Queued = queued, Running = running, Done = done, Failed = failed, Cancelled = cancelled };

    [Fact]
    public void Counts_best_point_and_end_follow_the_events_after_the_snapshot()
    {
        var view = new SweepProgressView();
        view.Apply(new WatchEvent { Snapshot = new SweepStatus { SweepId = "s", Name = "s", Metric = "val_accuracy", TotalJobs = 3, Counts = Counts(3, 0, 0) } });
        view.Summary().ShouldStartWith("0 done, 0 failed, 0 running, 3 queued of 3;");

        view.Apply(new WatchEvent { Job = new JobStateChanged { SweepId = "s", JobId = "a", State = JobState.Running, SweepCounts = Counts(2, 1, 0) } });
        view.Apply(new WatchEvent { Metrics = new JobProgress { SweepId = "s", JobId = "a", Node = "n", Slot = 0, Epochs = 5, Metrics = new EpochMetrics { Epoch = 2 } } });
        var lines = view.Apply(new WatchEvent
        {
            Job = new JobStateChanged
            {
                SweepId = "s", JobId = "a", Kind = JobKind.Student, State = JobState.Done, SweepCounts = Counts(2, 0, 1), Summary = new TrialSummary { BestValidationAccuracy = 0.9 },
                SweepBest = new Recipe { Runs = 1, MetricMean = 0.9 },
            },
        });
        lines.ShouldHaveSingleItem().ShouldStartWith("done   a");
        view.Summary().ShouldStartWith("1 done, 0 failed, 0 running, 2 queued of 3; best val_accuracy 0.9000;");
        view.Ended.ShouldBeNull();

        view.Apply(new WatchEvent { Sweep = new SweepStateChanged { SweepId = "s", Change = SweepChange.Cancelled, Counts = Counts(0, 0, 1, cancelled: 2), TotalJobs = 3 } });
        view.Ended.ShouldBe("cancelled");
        view.Summary().ShouldStartWith("1 done, 0 failed, 0 running, 0 queued, 2 cancelled of 3;");
    }

    [Fact]
    public void The_total_grows_with_the_jobs_a_bayes_sweep_proposes()
    {
        var view = new SweepProgressView();
        view.Apply(new WatchEvent { Snapshot = new SweepStatus { SweepId = "s", Name = "s", Metric = "val_accuracy", TotalJobs = 2, Counts = Counts(2, 0, 0) } });
        view.Apply(new WatchEvent { Job = new JobStateChanged { SweepId = "s", JobId = "c", State = JobState.Queued, SweepCounts = new JobCounts { Queued = 1, Running = 2, Stopped = 3 } } });
        view.Summary().ShouldStartWith("0 done, 0 failed, 2 running, 1 queued, 3 stopped of 6;");
    }

    [Fact]
    public void A_snapshot_of_a_sweep_that_already_ended_ends_the_view()
    {
        var view = new SweepProgressView();
        view.Apply(new WatchEvent { Snapshot = new SweepStatus { SweepId = "s", Complete = true, TotalJobs = 1, Counts = Counts(0, 0, 1) } });
        view.Ended.ShouldBe("complete");
    }
}
