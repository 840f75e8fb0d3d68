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
        view.Summary().ShouldStartWith("1 done, 0 failed, 0 running, 2 queued of 3; best val_accuracy 90.00 %;");
        view.Ended.ShouldBeNull();

        view.Apply(new WatchEvent { Sweep = new SweepStateChanged { SweepId = "s", Change = SweepChange.Cancelled, Counts = Counts(0, 0, 1, cancelled: 2), TotalJobs = 3 } });
        view.Ended.ShouldBe("cancelled");
        view.Summary().ShouldStartWith("1 done, 0 failed, 0 running, 0 queued, 2 cancelled of 3;");
    }

    /// <summary>What the live view prints on a terminal <paramref name="width"/> columns wide and <paramref name="height"/> lines high.</summary>
    static string Shown(SweepProgressView view, int width, int height)
    {
        var text = new StringWriter();
        var console = Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings
        {
            Out = new Spectre.Console.AnsiConsoleOutput(text), Ansi = Spectre.Console.AnsiSupport.No, ColorSystem = Spectre.Console.ColorSystemSupport.NoColors,
        });
        console.Profile.Width = width;
        console.Write(view.Render(height));
        return text.ToString();
    }

    [Fact]
    public void The_live_view_shows_every_trial_of_a_pack_with_its_parameters_and_the_results_as_they_finish()
    {
        var view = new SweepProgressView();
        view.Apply(new WatchEvent { Snapshot = new SweepStatus { SweepId = "s", Name = "s", Metric = "val_accuracy", TotalJobs = 40, Counts = Counts(40, 0, 0) } });
        for (int i = 0; i < 3; i++) // a pack of three on one slot
        {
            view.Apply(new WatchEvent { Job = new JobStateChanged { SweepId = "s", JobId = $"trial-{i}", Kind = JobKind.Student, State = JobState.Running, Node = "local-0", Slot = 0,
                Parameters = { ["alpha"] = $"0.{i + 1}", ["temperature"] = "4" }, Seed = 1, SweepCounts = Counts(39 - i, i + 1, 0) } });
            view.Apply(new WatchEvent { Metrics = new JobProgress { SweepId = "s", JobId = $"trial-{i}", Node = "local-0", Slot = 0, Epochs = 5,
                Metrics = new EpochMetrics { Epoch = 2, ValidationAccuracy = 0.8125 } } });
        }
        view.Apply(new WatchEvent { Job = new JobStateChanged { SweepId = "s", JobId = "teacher-1", Kind = JobKind.Teacher, State = JobState.Done, Seed = 7,
            Summary = new TrialSummary { BestValidationAccuracy = 0.9, TestAccuracy = 0.875 }, SweepCounts = Counts(36, 3, 1) } });
        view.Apply(new WatchEvent { Metrics = new JobProgress { SweepId = "s", JobId = "teacher-1", Node = "local-0", Slot = 1, Epochs = 3, Metrics = new EpochMetrics { Epoch = 3 } } });

        string shown = Shown(view, width: 160, height: 40);
        foreach (int i in new[] { 0, 1, 2 }) shown.ShouldContain($"trial-{i}");
        shown.ShouldContain("local-0 / 0 (pack of 3)");
        shown.ShouldContain("alpha=0.1 temperature=4 seed 1");
        shown.ShouldContain("2/5");
        shown.ShouldContain("81.25 %");
        shown.ShouldContain("teacher seed 7");
        shown.ShouldContain("val 90.00 %, test 87.50 %");
        System.Text.RegularExpressions.Regex.Count(shown, "teacher-1").ShouldBe(1); // its last epoch came after it finished: not running again
        string footer = shown.TrimEnd().Split('\n')[^1];
        footer.ShouldStartWith("s: 1 done, 0 failed, 3 running, 36 queued of 40;"); // a line of its own, as wide as the terminal

        // A short terminal: what does not fit is counted, not drawn.
        for (int i = 3; i < 10; i++)
            view.Apply(new WatchEvent { Job = new JobStateChanged { SweepId = "s", JobId = $"trial-{i}", Kind = JobKind.Student, State = JobState.Running, Node = "local-1", Slot = 0,
                Parameters = { ["alpha"] = "0.9" }, Seed = i, SweepCounts = Counts(26, 13, 1) } });
        string small = Shown(view, width: 160, height: 20);
        small.ShouldContain("... and 4 more");
        small.ShouldContain("teacher seed 7");
        small.TrimEnd().Split('\n').Length.ShouldBeLessThanOrEqualTo(19); // and the prompt's line
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
