using Orchestrator.Coordinator.Planning;
using Orchestrator.Coordinator.Results;
using Orchestrator.Distillation;
using Orchestrator.Distillation.Losses;
using Orchestrator.Protocol.V1;
using Orchestrator.Tests;
using Shouldly;

namespace Orchestrator.Coordinator.Tests;

/// <summary>dataset.labels in a sweep, the teachers' own budget, and the baselines planned beside distilled students.</summary>
public class LabelBudgetSweepTests
{
    // Line numbers in the tests below refer to this text.
    const string FewLabels = """
        name: few-labels
        dataset: { name: fashion-mnist, validation: 5000, labels: 0.05 }
        teacher: { model: mlp-1200-1200, epochs: 10 }
        student:
          model: mlp-400
          epochs: 20
          loss: { terms: [ce, hinton], alpha: 0.5, temperature: 4 }
        parameters:
          alpha: { values: [0.5, 0.9] }
          labels: { values: [0.01, 0.05, 1.0] }
          lr: { values: [0.001] }
        seeds: [1, 2]
        """;

    static SweepPlan Plan(string yaml) => SweepPlanner.Plan(SweepFile.Load(TestData.WriteFile("sweep.yaml", yaml)), TestData.TemporaryDirectory());

    [Fact]
    public void The_students_get_the_swept_budget_and_the_teacher_every_label()
    {
        var plan = Plan(FewLabels);
        plan.Students.Count.ShouldBe(2 * 3 * 2);
        plan.Students.Select(s => s.Config!.Data.Labels).Distinct().Order().ShouldBe([null, 0.01, 0.05]); // 1.0 is every label
        plan.Teachers.Single().Config!.Data.Labels.ShouldBeNull();
        // The teacher's outputs do not depend on the students' budget: one set of soft targets for all of them.
        plan.Jobs.Count(j => j.Kind == JobKind.SoftTargets).ShouldBe(1);
        plan.SoftTargetJobs.ShouldAllBe(j => j.SoftTargets!.Data.Labels == null);
    }

    [Fact]
    public void Every_distilled_student_names_its_baseline_the_same_student_alone_on_labels_with_its_seed()
    {
        var plan = Plan(FewLabels);
        plan.Baselines.Count.ShouldBe(3 * 2); // per budget and seed: alpha does not change a student alone
        plan.Baselines.ShouldAllBe(b => b.Config!.Teacher == null && b.Config.Loss == LossRecipe.LabelsOnly && b.DependsOn.Count == 0);
        plan.Baselines.ShouldAllBe(b => b.Parameters.Keys.Order().SequenceEqual(new[] { "labels", "lr" }));
        var byId = plan.Baselines.ToDictionary(b => b.Id);
        foreach (var student in plan.Students)
        {
            var baseline = byId[student.Baseline!];
            baseline.Config!.Training.ShouldBe(student.Config!.Training);
            baseline.Config.Data.ShouldBe(student.Config.Data);
            baseline.Config.Model.ShouldBe(student.Config.Model);
            baseline.Parameters["labels"].ShouldBe(student.Parameters["labels"]);
        }
        SweepSubmission.From(plan, TestData.TemporaryDirectory()).Jobs.Where(j => j.Kind == JobKind.Student).ShouldAllBe(j => j.Baseline.StartsWith("baseline-"));
    }

    [Fact]
    public void Baseline_false_plans_none() =>
        Plan(FewLabels + "\nbaseline: false").ShouldSatisfyAllConditions(
            plan => plan.Baselines.ShouldBeEmpty(), plan => plan.Students.ShouldAllBe(s => s.Baseline == null));

    [Fact]
    public void A_teacher_may_have_its_own_budget_and_nothing_else_of_the_dataset()
    {
        var plan = Plan(FewLabels.Replace("epochs: 10 }", "epochs: 10, dataset: { labels: 0.2 } }"));
        plan.Teachers.Single().Config!.Data.Labels.ShouldBe(0.2);
        plan.Teachers.Single().Config!.Data.Validation.ShouldBe(5000);
        var error = Should.Throw<UserInputException>(() => Plan(FewLabels.Replace("epochs: 10 }", "epochs: 10, dataset: { validation: 100 } }")));
        error.Message.ShouldContain("sweep.yaml:3:");
        error.Message.ShouldContain("teacher.dataset.validation: a teacher shares the sweep's samples and split; only its label budget (labels) can differ");
    }

    [Theory]
    [InlineData("  labels: { values: [0.01, 0.05, 1.0] }", "  labels: { values: [0.01, 1.5] }", "10:28: dataset.labels: 1.5 is not a label budget")]
    [InlineData("  labels: { values: [0.01, 0.05, 1.0] }", "  labels: { values: [0.01, 60000] }", "10:28: dataset.labels: 60000 labelled samples is more than the 55,000 training samples")]
    public void A_bad_budget_is_reported_at_its_line(string find, string replace, string message)
    {
        FewLabels.ShouldContain(find);
        Should.Throw<UserInputException>(() => Plan(FewLabels.Replace(find, replace))).Message.ShouldContain(message);
    }

    [Fact]
    public void A_bad_budget_of_the_sweeps_dataset_is_reported_at_its_line()
    {
        string yaml = FewLabels.Replace("labels: 0.05 }", "labels: -1 }").Replace("  labels: { values: [0.01, 0.05, 1.0] }\n", "");
        Should.Throw<UserInputException>(() => Plan(yaml)).Message.ShouldContain("2:59: dataset.labels: -1 is not a label budget: give a fraction");
    }

    static JobStatus Job(string id, JobKind kind, int seed, double test, string baseline = "", string alpha = "0.5") => new()
    {
        JobId = id, Kind = kind, State = JobState.Done, Seed = seed, Baseline = baseline,
        Parameters = { kind == JobKind.Student ? new Dictionary<string, string> { ["alpha"] = alpha } : [] },
        Summary = new TrialSummary { Status = TrialStatus.Completed, BestValidationAccuracy = test, TestAccuracy = test, BestEpoch = 1 },
    };

    static SweepStatus Status() => new()
    {
        SweepId = "g", Name = "g", Metric = "val_accuracy", Maximize = true,
        Jobs =
        {
            Job("baseline-1", JobKind.Baseline, 1, 0.70), Job("baseline-2", JobKind.Baseline, 2, 0.72), Job("baseline-3", JobKind.Baseline, 3, 0.71),
            Job("trial-a1", JobKind.Student, 1, 0.80, "baseline-1"), Job("trial-a2", JobKind.Student, 2, 0.81, "baseline-2"), Job("trial-a3", JobKind.Student, 3, 0.82, "baseline-3"),
            Job("trial-b1", JobKind.Student, 1, 0.705, "baseline-1", "0.1"), Job("trial-b2", JobKind.Student, 2, 0.715, "baseline-2", "0.1"),
            Job("trial-b3", JobKind.Student, 3, 0.72, "baseline-3", "0.1"),
        },
    };

    [Fact]
    public void A_points_gain_is_the_mean_and_spread_over_seeds_of_its_students_minus_their_baselines()
    {
        var recipes = SweepResults.Recipes(Status());
        recipes.Count.ShouldBe(2); // baselines are references, never points
        var best = recipes[0].Gain!;
        best.Runs.ShouldBe(3);
        best.Mean.ShouldBe(0.10, tolerance: 1e-9); // (0.10 + 0.09 + 0.11) / 3
        best.Std.ShouldBe(0.01, tolerance: 1e-9);
        best.BaselineMean.ShouldBe(0.71, tolerance: 1e-9);
        best.ExceedsSpread.ShouldBeTrue();
        best.ToString().ShouldBe("+10.00 ± 1.00 pt (exceeds the seeds' spread)");
        var small = recipes[1].Gain!;
        small.Mean.ShouldBe(0.01 / 3, tolerance: 1e-9); // +0.005, -0.005, +0.01: less than either spread over seeds
        small.ExceedsSpread.ShouldBeFalse();
        SweepResults.BestLine(Status().Name, "val_accuracy", recipes[0]).ShouldContain("gain over the student alone +10.00 ± 1.00 pt");
    }

    [Fact]
    public void Results_rows_name_each_students_baseline_and_its_gain_on_that_seed()
    {
        var table = new ResultsTable(["alpha"]);
        var rows = SweepResults.InTableOrder(Status().Jobs).Select(table.Row).ToList();
        rows.Take(3).ShouldAllBe(r => (string)r["kind"]! == "baseline" && r["gain"] == null);
        var a2 = rows.Single(r => (string)r["job"]! == "trial-a2");
        a2["baseline"].ShouldBe("baseline-2");
        ((double)a2["gain"]!).ShouldBe(0.09, tolerance: 1e-9);
    }
}
