using System.Xml.Linq;
using Orchestrator.Coordinator.Cluster;
using Orchestrator.Coordinator.Results;
using Orchestrator.Protocol.V1;
using Orchestrator.Tests;
using Shouldly;

namespace Orchestrator.Coordinator.Tests;

/// <summary>report.html from a sweep's status and its trials' metrics.jsonl files.</summary>
public partial class SweepReportTests
{
    static readonly DateTime Generated = new(2026, 11, 23, 12, 0, 0, DateTimeKind.Utc);

    static JobStatus Student(string id, string alpha, int seed, double validation, double test) => new()
    {
        JobId = id, Kind = JobKind.Student, State = JobState.Done, Seed = seed, Parameters = { ["alpha"] = alpha, ["losses"] = "[ce, <hinton>]" },
        Summary = new TrialSummary { Name = id, Status = TrialStatus.Completed, BestValidationAccuracy = validation, TestAccuracy = test },
    };

    static void WriteEpochs(string jobs, string id, params double[] accuracies)
    {
        Directory.CreateDirectory(Path.Combine(jobs, id));
        File.WriteAllLines(Path.Combine(jobs, id, "metrics.jsonl"), accuracies.Select((a, i) =>
            $"{{\"epoch\": {i + 1}, \"validation_accuracy\": {a}, \"validation_loss\": {1 - a}, \"train_loss\": 0.5}}"));
    }

    /// <summary>The page as XML: well-formed, no unescaped text, every tag closed (scripts aside: the inlined chart library is JavaScript, not XML).</summary>
    static XElement Parse(string html) =>
        XDocument.Parse(ScriptTag().Replace(html.Replace("<!DOCTYPE html>", ""), "<script/>"), LoadOptions.None).Root!;

    [System.Text.RegularExpressions.GeneratedRegex("<script[^>]*>.*?</script>", System.Text.RegularExpressions.RegexOptions.Singleline)]
    private static partial System.Text.RegularExpressions.Regex ScriptTag();

    [Fact]
    public void The_report_shows_the_best_point_every_point_each_parameter_and_learning_curves()
    {
        string jobs = TestData.TemporaryDirectory();
        var status = new SweepStatus
        {
            SweepId = "r", Name = "r", Metric = "val_accuracy", Maximize = true, Complete = true, OutputRoot = jobs,
            Jobs =
            {
                new JobStatus { JobId = "teacher-1", Kind = JobKind.Teacher, State = JobState.Done,
                    Summary = new TrialSummary { Status = TrialStatus.Completed, BestValidationAccuracy = 0.9, TestAccuracy = 0.89 } },
                Student("trial-a1", "0.25", 1, 0.80, 0.79), Student("trial-a2", "0.25", 2, 0.82, 0.80),
                Student("trial-b1", "0.75", 1, 0.86, 0.85), Student("trial-b2", "0.75", 2, 0.84, 0.83),
                new JobStatus { JobId = "trial-c1", Kind = JobKind.Student, State = JobState.Failed,
                    Summary = new TrialSummary { Status = TrialStatus.Failed, FailureReason = "loss became NaN in epoch 2" } },
            },
        };
        WriteEpochs(jobs, "teacher-1", 0.8, 0.9);
        foreach (string id in new[] { "trial-a1", "trial-a2", "trial-b1", "trial-b2" }) WriteEpochs(jobs, id, 0.7, 0.8);

        string html = SweepReport.Render(status, Generated);
        var page = Parse(html);
        var body = page.Descendants().ToList();
        string Text(string id) => body.Single(e => (string?)e.Attribute("id") == id).Value;

        Text("best").ShouldContain("alpha=0.75, losses=[ce, <hinton>]"); // 0.85 mean beats 0.81; the value is escaped in the file
        Text("best").ShouldContain("val_accuracy 85.00 % ± 1.41 %");
        var rows = body.Single(e => (string?)e.Attribute("id") == "points").Elements("tr").Skip(1).ToList();
        rows.Count.ShouldBe(2);
        rows[0].Attribute("class")!.Value.ShouldBe("best");

        var plots = body.Where(e => e.Name.LocalName == "svg").ToList();
        plots.Count.ShouldBe(1 + 3); // alpha varies (losses does not), then validation accuracy, validation loss and training loss curves
        plots[0].Descendants().Count(e => e.Name.LocalName == "circle").ShouldBe(2 + 4); // each point's mean, and a ring per seed
        var accuracyCurves = plots[1].Descendants().Where(e => e.Name.LocalName == "polyline").ToList();
        accuracyCurves.Count.ShouldBe(5); // the teacher and four students
        accuracyCurves.Count(c => c.Attribute("stroke")!.Value == "#d62728").ShouldBe(2); // the best point's two seeds
        accuracyCurves.ShouldContain(c => c.Attribute("stroke-dasharray") != null); // the teacher
        accuracyCurves.Select(c => c.Value).ShouldContain("trial-a2 (alpha=0.25, losses=[ce, <hinton>], seed 2)"); // a grey curve says which trial it is
        foreach (var plot in plots)
            plot.Descendants().Where(e => e.Name.LocalName == "text").Select(t => t.Value).ShouldNotContain("-0");
        var epochTicks = plots[1].Descendants().Where(e => e.Name.LocalName == "text" && (string?)e.Attribute("text-anchor") == "middle")
            .Select(t => t.Value).Where(v => double.TryParse(v, System.Globalization.CultureInfo.InvariantCulture, out _)).ToList();
        epochTicks.ShouldBe(["1", "2"]); // epochs tick at whole numbers

        html.ShouldContain("trial-c1: loss became NaN in epoch 2");
        html.ShouldContain("teacher teacher-1: val 90.00 %, test 89.00 %");
    }

    [Fact]
    public void Stopped_trials_are_marked_on_the_learning_curves_and_the_best_metric_is_drawn_by_slot_hours()
    {
        string jobs = TestData.TemporaryDirectory();
        var start = new DateTime(2026, 12, 2, 10, 0, 0, DateTimeKind.Utc);
        JobStatus Finished(JobStatus job, double seconds, int minutes, int bestEpoch = 2)
        {
            (job.Summary.Seconds, job.Summary.BestEpoch) = (seconds, bestEpoch);
            job.Summary.FinishedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(start.AddMinutes(minutes));
            return job;
        }
        var stopped = Student("trial-b1", "0.5", 1, 0.70, 0.69);
        (stopped.State, stopped.StopReason, stopped.Summary.Status) = (JobState.Stopped, "stopped by hyperband at epoch 1: best val_accuracy 0.700 below 0.800, band 1 of 2 points", TrialStatus.Stopped);
        var status = new SweepStatus
        {
            SweepId = "s", Name = "s", Metric = "val_accuracy", Maximize = true, Complete = true, OutputRoot = jobs,
            Jobs =
            {
                Finished(new JobStatus { JobId = "teacher-1", Kind = JobKind.Teacher, State = JobState.Done,
                    Summary = new TrialSummary { Status = TrialStatus.Completed, BestValidationAccuracy = 0.9, TestAccuracy = 0.89 } }, 3600, 60),
                Finished(Student("trial-a1", "0.25", 1, 0.80, 0.79), 1800, 90),
                Finished(stopped, 900, 100, bestEpoch: 1), // finished second of the students, though listed last
                Finished(Student("trial-c1", "0.75", 1, 0.85, 0.84), 1800, 130),
            },
        };
        WriteEpochs(jobs, "teacher-1", 0.8, 0.9);
        WriteEpochs(jobs, "trial-a1", 0.7, 0.8);
        WriteEpochs(jobs, "trial-b1", 0.7);
        WriteEpochs(jobs, "trial-c1", 0.75, 0.85);

        var page = Parse(SweepReport.Render(status, Generated));
        page.Descendants().First(e => e.Name.LocalName == "p").Value.ShouldContain("3 of 4 job(s) done, 1 stopped by the sweep");
        var svgs = page.Descendants().Where(e => e.Name.LocalName == "svg").ToList();
        var accuracy = svgs.Single(s => s.Descendants().First().Value == "validation accuracy").Descendants().Where(e => e.Name.LocalName == "polyline").ToList();
        accuracy.Single(c => c.Attribute("stroke")!.Value == "#f4a582").Attribute("stroke-dasharray").ShouldNotBeNull(); // the stopped one, dashed

        var bySlotHours = svgs.Single(s => s.Descendants().First().Value == "best val_accuracy so far");
        // Hours spent when each student finished: 1 (the teacher) + 0.5, + 0.25, + 0.5; the best so far: 0.80, 0.80, 0.85.
        var line = bySlotHours.Descendants().Single(e => e.Name.LocalName == "polyline").Attribute("points")!.Value.Split(' ');
        line.Length.ShouldBe(3);
        page.Descendants().Single(e => e.Name.LocalName == "h2" && e.Value == "Best val_accuracy by slot-hours")
            .ElementsAfterSelf().First().Value.ShouldContain("2.25 slot-hours in all");
    }

    [Fact]
    public void Trials_still_training_are_drawn_with_the_epochs_they_have_so_far()
    {
        string jobs = TestData.TemporaryDirectory();
        var running = Student("trial-r1", "0.5", 1, 0, 0);
        (running.State, running.Summary) = (JobState.Running, null);
        var status = new SweepStatus
        {
            SweepId = "s", Name = "s", Metric = "val_accuracy", Maximize = true, OutputRoot = jobs,
            Jobs = { new JobStatus { JobId = "teacher-1", Kind = JobKind.Teacher, State = JobState.Done,
                         Summary = new TrialSummary { Status = TrialStatus.Completed, BestValidationAccuracy = 0.9, TestAccuracy = 0.89 } }, running },
        };
        WriteEpochs(jobs, "teacher-1", 0.8, 0.9);
        WriteEpochs(jobs, "trial-r1", 0.6, 0.7, 0.75); // three epochs so far
        var page = Parse(SweepReport.Render(status, Generated));
        page.Descendants().Single(e => e.Name.LocalName == "p" && e.Attribute("id")?.Value == "progress").Attribute("data-complete")!.Value.ShouldBe("no");
        var accuracy = page.Descendants().Where(e => e.Name.LocalName == "svg").Single(s => s.Descendants().First().Value == "validation accuracy");
        var green = accuracy.Descendants().Where(e => e.Name.LocalName == "polyline").Single(c => c.Attribute("stroke")!.Value == "#2ca02c");
        green.Attribute("points")!.Value.Split(' ').Length.ShouldBe(3);
    }

    [Fact]
    public void Two_swept_parameters_get_a_heatmap_of_the_best_mean_over_the_rest()
    {
        JobStatus Point(string alpha, string temperature, string losses, double validation)
        {
            var job = Student($"trial-{alpha}-{temperature}-{losses}", alpha, 1, validation, validation);
            job.Parameters["temperature"] = temperature;
            job.Parameters["losses"] = losses;
            return job;
        }
        var status = new SweepStatus
        {
            SweepId = "h", Name = "h", Metric = "val_accuracy", Maximize = true,
            Jobs = { Point("0.5", "2", "a", 0.80), Point("0.5", "2", "b", 0.90), Point("0.5", "4", "a", 0.70), Point("0.9", "2", "a", 0.60), Point("0.9", "4", "b", 0.85) },
        };
        var svgs = Parse(SweepReport.Render(status, Generated)).Descendants().Where(e => e.Name.LocalName == "svg").ToList();
        svgs.Count.ShouldBe(3 + 3); // alpha, losses, temperature; then each pair
        var alphaByTemperature = svgs.Single(s => s.Descendants().First().Value == "val_accuracy: temperature x alpha (best over the other parameters)");
        alphaByTemperature.Descendants().Where(e => e.Name.LocalName == "rect").Count().ShouldBe(4);
        alphaByTemperature.Descendants().Where(e => e.Name.LocalName == "text").Select(t => t.Value).ShouldContain("90.00 %"); // (0.5, 2): the better of a and b
        alphaByTemperature.Descendants().Where(e => e.Name.LocalName == "text").Select(t => t.Value).ShouldNotContain("80.00 %");
    }

    [Fact]
    public void The_report_shows_the_sweep_file_flags_a_loss_to_the_student_alone_and_says_a_tie_at_the_top_is_one()
    {
        string sweepDirectory = TestData.TemporaryDirectory(), jobs = Path.Combine(sweepDirectory, "trials");
        File.WriteAllText(Path.Combine(sweepDirectory, "sweep.yaml"), "name: t\nstudent: { model: mlp-16, epochs: 3 }\n");
        JobStatus Perfect(string id, string alpha, double loss, double test)
        {
            var job = Student(id, alpha, 1, 1.0, test);
            (job.Summary.BestValidationLoss, job.Summary.Model, job.Baseline) = (loss, "mlp-16", "baseline-1");
            return job;
        }
        var status = new SweepStatus
        {
            SweepId = "t", Name = "t", Metric = "val_accuracy", Maximize = true, Complete = true, OutputRoot = jobs,
            Jobs =
            {
                new JobStatus { JobId = "baseline-1", Kind = JobKind.Baseline, State = JobState.Done, Seed = 1,
                    Summary = new TrialSummary { Status = TrialStatus.Completed, BestValidationAccuracy = 0.995, TestAccuracy = 0.99 } },
                Perfect("trial-a", "0.25", 0.30, 0.97), Perfect("trial-b", "0.5", 0.10, 0.98), // both at 100 %: b has the lower loss
            },
        };
        WriteEpochs(jobs, "trial-b", 1.0, 1.0, 1.0);

        var page = Parse(SweepReport.Render(status, Generated));
        var body = page.Descendants().ToList();
        string Text(string id) => body.Single(e => (string?)e.Attribute("id") == id).Value;
        Text("settings").ShouldContain("student: { model: mlp-16, epochs: 3 }");
        Text("models").ShouldContain("student model(s): mlp-16");
        Text("best").ShouldContain("alpha=0.5");
        Text("best").ShouldContain("A tie: 1 other point(s) have the same mean val_accuracy; this one has the lowest validation loss (0.1000)");
        Text("best").ShouldContain("-1.00 ± 0.00 pt (one seed) (worse than the student alone");
        page.Value.ShouldContain("the student alone on labels baseline-1 (seed 1): val 99.50 %, test 99.00 %");
        // A constant accuracy of 1 gets an axis that ends at 1, not at 1.05.
        var accuracy = body.Where(e => e.Name.LocalName == "svg").Single(s => s.Descendants().First().Value == "validation accuracy");
        accuracy.Descendants().Where(e => e.Name.LocalName == "text" && (string?)e.Attribute("text-anchor") == "end").Select(t => double.TryParse(t.Value, System.Globalization.CultureInfo.InvariantCulture, out double v) ? v : 0)
            .Max().ShouldBeLessThanOrEqualTo(1.0);
    }

    /// <summary>A finished sweep of four models x three alphas, two seeds, with each model's cost, a teacher and each model alone.</summary>
    static SweepStatus CostedSweep(string jobs)
    {
        var status = new SweepStatus { SweepId = "costs", Name = "costs", Metric = "val_accuracy", Maximize = true, Complete = true, OutputRoot = jobs };
        static ModelCost Cost(double latency, long bytes) => new() { LatencyMsBatch1 = latency, LatencyRunsBatch1 = 20, BytesFloat32 = bytes, MultiplyAccumulates = bytes / 2 };
        var models = new[] { ("mlp-64", 0.05, 51_000L, 0.84), ("mlp-400", 0.2, 318_000L, 0.87), ("resnet8", 1.5, 78_000L, 0.90), ("wrn-16-1", 2.5, 175_000L, 0.91) };
        status.Jobs.Add(new JobStatus { JobId = "teacher-1", Kind = JobKind.Teacher, State = JobState.Done, Summary = new TrialSummary
            { Status = TrialStatus.Completed, BestEpoch = 4, BestValidationAccuracy = 0.92, TestAccuracy = 0.915, Parameters = 272_000, Cost = Cost(4, 1_088_000) } });
        foreach (var (model, latency, parameters, accuracy) in models)
            foreach (int seed in new[] { 1, 2 })
            {
                status.Jobs.Add(new JobStatus { JobId = $"baseline-{model}-{seed}", Kind = JobKind.Baseline, State = JobState.Done, Seed = seed, Parameters = { ["model"] = model },
                    Summary = new TrialSummary { Status = TrialStatus.Completed, BestEpoch = 4, BestValidationAccuracy = accuracy - 0.02, TestAccuracy = accuracy - 0.02,
                        Parameters = parameters, Cost = Cost(latency, 4 * parameters) } });
                foreach (string alpha in new[] { "0.1", "0.5", "0.9" })
                    status.Jobs.Add(new JobStatus { JobId = $"trial-{model}-{alpha}-{seed}", Kind = JobKind.Student, State = JobState.Done, Seed = seed,
                        Parameters = { ["model"] = model, ["alpha"] = alpha }, Baseline = $"baseline-{model}-{seed}",
                        Summary = new TrialSummary { Status = TrialStatus.Completed, BestEpoch = 4, BestValidationAccuracy = accuracy + double.Parse(alpha) / 100 + seed / 1000.0,
                            TestAccuracy = accuracy, Parameters = parameters, Cost = Cost(latency * (1 + seed / 100.0), 4 * parameters) } });
            }
        return status;
    }

    [Fact]
    public async Task Headless_chromium_draws_the_cost_front_every_point_and_the_importance_offline_without_console_errors()
    {
        string directory = TestData.TemporaryDirectory();
        var status = CostedSweep(directory);
        string html = SweepReport.Render(status, Generated);
        html.ShouldNotContain("src=\"http"); // everything is inlined: nothing to fetch when the page opens
        string page = Path.Combine(directory, SweepReport.FileName);
        File.WriteAllText(page, html);

        var (dom, console) = await HeadlessChromium.LoadAsync(new Uri(page).AbsoluteUri, TestContext.Current.CancellationToken);
        console.ShouldBeEmpty();
        dom.ShouldContain("data-charts-drawn=\"yes\""); // the drawing script ran to its end
        var drawn = XDocument.Parse("<root>" + System.Text.RegularExpressions.Regex.Match(dom, "<div id=\"tradeoff\".*?</svg>", System.Text.RegularExpressions.RegexOptions.Singleline).Value + "</div></div></root>");
        var texts = drawn.Descendants().Where(e => e.Name.LocalName == "text").Select(e => e.Value).ToList();
        texts.ShouldContain("Pareto front");
        texts.ShouldContain("teacher");
        texts.ShouldContain("student alone");
        dom.ShouldContain("model"); // an axis of the parallel coordinates
        System.Text.RegularExpressions.Regex.IsMatch(dom, "<div id=\"importance\"[^>]*>.*?<svg", System.Text.RegularExpressions.RegexOptions.Singleline).ShouldBeTrue();
        await HeadlessChromium.ScreenshotAsync(new Uri(page).AbsoluteUri, Path.Combine(directory, "report.png"), TestContext.Current.CancellationToken);
        new FileInfo(Path.Combine(directory, "report.png")).Length.ShouldBeGreaterThan(10_000);
    }

    [Fact]
    public void A_sweep_without_finished_students_or_metrics_files_still_gets_a_report()
    {
        var status = new SweepStatus { SweepId = "e", Name = "e", Metric = "val_loss", Jobs = { Student("trial-a", "0.5", 1, 0.5, 0.5) } };
        status.Jobs[0].State = JobState.Running;
        var page = Parse(SweepReport.Render(status, Generated));
        page.Descendants().ShouldNotContain(e => e.Name.LocalName == "svg");
        page.Value.ShouldContain("0 of 1 job(s) done");
    }
}
