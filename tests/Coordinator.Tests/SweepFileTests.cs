using System.Globalization;
using Orchestrator.Coordinator.Planning;
using Orchestrator.Distillation;
using Orchestrator.Protocol.V1;
using Orchestrator.Tests;
using Shouldly;

namespace Orchestrator.Coordinator.Tests;

public class SweepFileTests
{
    // Line numbers in the tests below refer to this text.
    const string Grid = """
        name: kd-grid
        dataset: { name: fashion-mnist, validation: 5000 }
        teacher: { model: mlp-1200-1200, epochs: 10 }
        student:
          model: mlp-400
          epochs: 20
          loss: { terms: [ce, hinton], alpha: 0.5, temperature: 4 }
        method: grid
        parameters:
          alpha: { values: [0.25, 0.5, 0.75] }
          temperature: { values: [2, 4] }
          losses: { values: [[ce, hinton], [ce, hinton, triplet]] }
        seeds: [1, 2, 3]
        """;

    static SweepPlan Plan(string yaml) => SweepPlanner.Plan(SweepFile.Load(TestData.WriteFile("sweep.yaml", yaml)), TestData.TemporaryDirectory());

    static UserInputException Error(string yaml) => Should.Throw<UserInputException>(() => Plan(yaml));

    [Fact]
    public void Grid_crosses_every_value_with_every_seed_and_shares_one_teacher()
    {
        var plan = Plan(Grid);
        plan.Points.ShouldBe(3 * 2 * 2);
        plan.Students.Count.ShouldBe(3 * 2 * 2 * 3);
        plan.Teachers.Count.ShouldBe(1);
        var softTargets = plan.Jobs.Single(j => j.Kind == JobKind.SoftTargets);
        softTargets.DependsOn.Count.ShouldBe(Distillation.SoftTargets.SoftTargetSettings.DefaultShards);
        plan.SoftTargetJobs.Where(j => j.Kind == JobKind.SoftTargetShard).ShouldAllBe(j => j.DependsOn.SequenceEqual(new[] { plan.Teachers[0].Id }));
        plan.Students.ShouldAllBe(s => s.DependsOn.SequenceEqual(new[] { softTargets.Id }));
        plan.Students.Select(s => s.Id).Distinct().Count().ShouldBe(plan.Students.Count);
        var tripletAtT2 = plan.Students.Where(s => s.Config!.Loss.Weights.ContainsKey("triplet") && s.Config!.Loss.Temperature == 2).ToList();
        tripletAtT2.Count.ShouldBe(3 * 3);
        tripletAtT2.Select(s => s.Config!.Loss.Weights["hinton"]).Distinct().Order().ShouldBe([0.25, 0.5, 0.75]);
        plan.Students.Select(s => s.Config!.Training.Seed).Distinct().Order().ShouldBe([1, 2, 3]);
    }

    [Fact]
    public void A_tied_parameter_sets_its_paths_together_a_teacher_with_its_student()
    {
        var plan = Plan("""
            name: pairs
            dataset: { name: cifar100, validation: 5000 }
            teacher: { model: resnet56, epochs: 2 }
            student: { model: resnet20, epochs: 2, loss: { weights: { ce: 0.1, hinton: 0.9 }, temperature: 4 } }
            parameters:
              pair: { paths: [teacher.model, student.model], values: [[resnet56, resnet20], [wrn-40-2, wrn-16-2], [wrn-40-2, wrn-40-1]] }
              lr: { values: [0.05, 0.01] }
            seeds: [1]
            """);
        plan.Points.ShouldBe(3 * 2);
        plan.Teachers.Select(t => t.Config!.Model.Name).Order().ShouldBe(["resnet56", "wrn-40-2"]); // wrn-40-2 teaches two students, trained once
        string TeacherOf(Planning.PlannedJob student) => Path.GetFileName(Path.GetDirectoryName(student.Config!.Teacher!.Members[0].Checkpoint))!;
        var pairs = plan.Students.Select(s => (Teacher: plan.Teachers.Single(t => t.Id == TeacherOf(s)).Config!.Model.Name, Student: s.Config!.Model.Name))
            .Distinct().Order().ToList();
        pairs.ShouldBe([("resnet56", "resnet20"), ("wrn-40-2", "wrn-16-2"), ("wrn-40-2", "wrn-40-1")]);
        plan.Students.ShouldAllBe(s => s.Parameters["pair"].StartsWith('['));
        plan.Baselines.Select(b => b.Config!.Model.Name).Distinct().Order().ShouldBe(["resnet20", "wrn-16-2", "wrn-40-1"]);
    }

    [Theory]
    [InlineData("pair: { paths: [teacher.model, student.model], values: [[resnet56]] }", "parameters.pair.values: each value lists one element per path (teacher.model, student.model)")]
    [InlineData("pair: { paths: [teacher.model], values: [[resnet56]] }", "pair.paths: ties at least two paths")]
    [InlineData("pair: { paths: [teacher.model, student.modle], values: [[resnet56, resnet20]] }", "unknown key 'modle' (did you mean 'model'?)")]
    [InlineData("pair: { paths: [teacher.model, studnt.model], values: [[resnet56, resnet20]] }", "'studnt.model' is not a parameter")]
    public void A_tied_parameter_with_a_wrong_shape_says_what_it_needs(string parameter, string message) =>
        Error("""
            name: pairs
            dataset: cifar100
            teacher: { model: resnet56, epochs: 2 }
            student: { model: resnet20, epochs: 2, loss: { weights: { ce: 0.1, hinton: 0.9 }, temperature: 4 } }
            parameters:
            """ + "\n  " + parameter + "\nseeds: [1]\n").Message.ShouldContain(message);

    const string Ensemble = """
        name: ens
        dataset: { name: fashion-mnist, validation: 5000 }
        teacher: { model: mlp-1200-1200, epochs: 10, count: 3 }
        soft_targets: { aggregation: mean-probs, shards: 2 }
        student:
          model: mlp-400
          epochs: 20
          loss: { terms: [ce, hinton], alpha: 0.7, temperature: 4 }
        parameters:
          teacher.count: { values: [1, 3] }
          losses: { values: [[ce], [ce, hinton]] }
        seeds: [1, 2]
        """;

    [Fact]
    public void An_ensemble_plans_teachers_then_a_generation_job_per_teacher_and_shard_then_one_aggregation_per_ensemble()
    {
        var plan = Plan(Ensemble);
        plan.Teachers.Select(t => t.Config!.Training.Seed).Order().ShouldBe([0, 1, 2]); // count 1 shares the first of count 3
        var shards = plan.Jobs.Where(j => j.Kind == JobKind.SoftTargetShard).ToList();
        shards.Count.ShouldBe(3 * 2);
        shards.Select(j => j.DependsOn.Single()).Distinct().Order().ShouldBe(plan.Teachers.Select(t => t.Id).Order());
        var aggregations = plan.Jobs.Where(j => j.Kind == JobKind.SoftTargets).ToList();
        aggregations.Select(a => a.SoftTargets!.Teachers.Members.Count).Order().ShouldBe([1, 3]);
        aggregations.ShouldAllBe(a => a.SoftTargets!.Teachers.Aggregation == Distillation.SoftTargets.Aggregation.MeanProbs && a.SoftTargets.Teachers.AggregationTemperature == 4);
        aggregations.Single(a => a.SoftTargets!.Teachers.Members.Count == 3).DependsOn.Count.ShouldBe(6);
        aggregations.SelectMany(a => a.SoftTargets!.Teachers.Members).ShouldAllBe(m => m.Checkpoint.StartsWith(plan.JobsDirectory) && m.Checkpoint.EndsWith("best.ckpt"));

        var students = plan.Students;
        students.Count.ShouldBe(2 * 2); // distilled: per ensemble and seed; [ce] is not a point but the baselines
        plan.Baselines.Count.ShouldBe(2); // one per seed whatever the teachers
        plan.Baselines.ShouldAllBe(b => b.DependsOn.Count == 0 && b.Config!.Teacher == null && !b.Config.Loss.NeedsTeacher);
        students.ShouldAllBe(s => plan.Baselines.Any(b => b.Id == s.Baseline));
        students.Where(s => s.Config!.Loss.NeedsTeacher).ShouldAllBe(s => aggregations.Any(a => s.DependsOn.SequenceEqual(new[] { a.Id })));
        plan.Jobs.Select(j => j.Kind).ShouldBe(plan.Jobs.Select(j => j.Kind).OrderBy(k => k == JobKind.Student ? 9 : (int)k)); // in the order they can run
    }

    [Fact]
    public void Online_students_wait_for_their_teachers_and_need_no_soft_target_jobs()
    {
        var plan = Plan(Ensemble.Replace("aggregation: mean-probs, shards: 2", "mode: online"));
        plan.SoftTargetJobs.ShouldBeEmpty();
        plan.Students.Where(s => s.Config!.Loss.NeedsTeacher && s.Config.Teacher!.Members.Count == 3)
            .ShouldAllBe(s => s.DependsOn.Order().SequenceEqual(plan.Teachers.Select(t => t.Id).Order()));
    }

    [Fact]
    public void Stored_views_are_of_each_students_augmentation_and_key_its_soft_target_jobs()
    {
        const string Augmented = "  epochs: 20\n  augment: standard\n";
        var plan = Plan(Ensemble.Replace("shards: 2", "shards: 2, views: 8").Replace("  epochs: 20\n", Augmented));
        var without = Plan(Ensemble.Replace("  epochs: 20\n", Augmented));
        var views = new Distillation.SoftTargets.AugmentedViews(8, Distillation.Training.AugmentOptions.Standard("fashion-mnist"));
        plan.SoftTargetJobs.ShouldAllBe(j => j.SoftTargets!.Teachers.Views == views);
        plan.Students.ShouldAllBe(s => s.Config!.Teacher!.Views == views);
        plan.SoftTargetJobs.Select(j => j.Id).Intersect(without.SoftTargetJobs.Select(j => j.Id)).ShouldBeEmpty();
        plan.Students.Select(s => s.Id).Intersect(without.Students.Select(s => s.Id)).ShouldBeEmpty();
        plan.Baselines.Select(b => b.Id).ShouldBe(without.Baselines.Select(b => b.Id)); // the student alone has no teacher to view
        Error(Ensemble.Replace("shards: 2", "shards: 2, views: 8")).Message
            .ShouldContain("4:60: soft_targets.views: views are the teachers' outputs on augmented images, but the student has no augment section");
    }

    [Fact]
    public void A_list_of_teachers_mixes_given_checkpoints_with_teachers_trained_in_the_sweep()
    {
        string checkpoint = TestData.WriteFile("given.ckpt", "ORCKPT1\na teacher checkpoint"); // only its header is read when planned
        string hash = Distillation.SoftTargets.TeacherSource.FileSha256(checkpoint);
        var plan = Plan(Ensemble.Replace("teacher: { model: mlp-1200-1200, epochs: 10, count: 3 }",
                $"teacher:\n  - {{ checkpoint: {checkpoint}, sha256: {hash} }}\n  - {{ model: mlp-400, epochs: 5, count: 2 }}")
            .Replace("  teacher.count: { values: [1, 3] }\n", ""));
        plan.Teachers.Count.ShouldBe(2);
        var ensemble = plan.Jobs.Single(j => j.Kind == JobKind.SoftTargets).SoftTargets!.Teachers;
        ensemble.Members.Count.ShouldBe(3);
        ensemble.Members[0].ShouldBe(new Distillation.SoftTargets.TeacherSource(checkpoint, hash)); // verified again when its soft targets are made
        plan.Jobs.Where(j => j.Kind == JobKind.SoftTargetShard).Count(j => j.DependsOn.Count == 0).ShouldBe(2); // the given teacher's shards wait for nothing

        var wrongPin = Ensemble.Replace("teacher: { model: mlp-1200-1200, epochs: 10, count: 3 }", $"teacher: [ {{ checkpoint: {checkpoint}, sha256: {new string('0', 64)} }} ]")
            .Replace("  teacher.count: { values: [1, 3] }\n", "");
        Error(wrongPin).Message.ShouldContain($"3:{36 + checkpoint.Length}: teacher.sha256: {checkpoint} has sha256 {hash}");
    }

    [Fact]
    public void A_teacher_entry_reads_as_in_a_trial_file_checkpoints_and_their_pins_included()
    {
        string first = TestData.WriteFile("first.ckpt", "ORCKPT1\none teacher"), second = TestData.WriteFile("second.ckpt", "ORCKPT1\nanother teacher");
        string[] hashes = [Distillation.SoftTargets.TeacherSource.FileSha256(first), Distillation.SoftTargets.TeacherSource.FileSha256(second)];
        string Sweep(string entry) => Ensemble.Replace("teacher: { model: mlp-1200-1200, epochs: 10, count: 3 }", $"teacher: {entry}")
            .Replace("  teacher.count: { values: [1, 3] }\n", "");

        var plan = Plan(Sweep($"{{ checkpoints: [{first}, {second}], sha256: [{hashes[0]}, {hashes[1]}] }}"));
        plan.Teachers.ShouldBeEmpty();
        plan.Jobs.Single(j => j.Kind == JobKind.SoftTargets).SoftTargets!.Teachers.Members
            .ShouldBe([new(first, hashes[0]), new(second, hashes[1])]);
        // The same mistakes, the same words as TrialConfigTests: one reader for both files.
        Error(Sweep($"{{ checkpoints: [{first}, {second}], sha256: [00] }}")).Message.ShouldContain("teacher.sha256: gives 1 hash(es) for 2 checkpoint(s)");
        Error(Sweep($"{{ checkpoint: {first}, sha256: abc }}")).Message.ShouldContain("teacher.sha256: 'abc' is not a SHA-256");
        Error(Sweep($"{{ checkpoint: {first}, checkpoints: [{second}] }}")).Message.ShouldContain("teacher.checkpoints: give checkpoint (one teacher) or checkpoints (an ensemble), not both");
    }

    [Theory]
    [InlineData("soft_targets: { aggregation: mean-probs, shards: 2 }", "soft_targets: { aggregation: mean-probs, shard: 2 }", "4:42: unknown key 'soft_targets.shard' (did you mean 'shards'?)")]
    [InlineData("soft_targets: { aggregation: mean-probs, shards: 2 }", "soft_targets: { aggregation: median }", "4:30: soft_targets.aggregation: unknown value 'median'")]
    [InlineData("soft_targets: { aggregation: mean-probs, shards: 2 }", "soft_targets: { shards: 0 }", "4:25: soft_targets.shards: must be between 1 and 1024")]
    [InlineData("teacher.count: { values: [1, 3] }", "teacher.count: { values: [0, 3] }", "10:29: teacher.count: must be between 1 and 100")]
    [InlineData("teacher: { model: mlp-1200-1200, epochs: 10, count: 3 }", "teacher: [ { model: mlp-64, epochs: 1 } ]", "10:18: parameters.teacher.count: sweeps a teacher setting, but teacher is a list")]
    public void Bad_ensemble_settings_are_reported_at_their_line(string from, string to, string message) =>
        Error(Ensemble.Replace(from, to)).Message.ShouldContain(message);

    [Fact]
    public void Trial_ids_are_stable_across_submissions_and_change_with_the_configuration()
    {
        var first = Plan(Grid).Students.Select(s => s.Id).ToList();
        Plan(Grid).Students.Select(s => s.Id).ShouldBe(first);
        var otherEpochs = Plan(Grid.Replace("  epochs: 20", "  epochs: 21")).Students.Select(s => s.Id);
        otherEpochs.Intersect(first).ShouldBeEmpty();
    }

    [Fact]
    public void Random_search_draws_run_cap_points_reproducibly_within_the_ranges()
    {
        const string random = """
            name: kd-random
            dataset: fashion-mnist
            teacher: { model: mlp-512, epochs: 5 }
            student: { model: mlp-400, epochs: 5, loss: { terms: [ce, hinton], alpha: 0.5 } }
            method: random
            run_cap: 25
            parameters:
              student.optimizer.lr: { min: 0.0001, max: 0.01, distribution: log_uniform_values }
              alpha: { min: 0.1, max: 0.9 }
              student.batch_size: { min: 32, max: 64, distribution: int_uniform }
              temperature: { values: [1, 2, 4] }
            """;
        var plan = Plan(random);
        plan.Students.Count.ShouldBe(25);
        Plan(random).Students.Select(s => s.Id).ShouldBe(plan.Students.Select(s => s.Id));
        plan.Students.ShouldAllBe(s => s.Config!.Training.Optimizer.LearningRate >= 0.0001 && s.Config!.Training.Optimizer.LearningRate <= 0.01);
        plan.Students.ShouldAllBe(s => s.Config!.Loss.Weights["hinton"] >= 0.1 && s.Config!.Loss.Weights["hinton"] <= 0.9);
        plan.Students.ShouldAllBe(s => s.Config!.Training.BatchSize >= 32 && s.Config!.Training.BatchSize <= 64);
        plan.Students.Select(s => s.Config!.Loss.Temperature).Distinct().Count().ShouldBeGreaterThan(1);
        Plan(random.Replace("run_cap: 25", "run_cap: 25\nsampling_seed: 9")).Students[0].Id.ShouldNotBe(plan.Students[0].Id);
    }

    [Theory]
    [InlineData("parameters:", "paramters:", "9:1: unknown key 'paramters' (did you mean 'parameters'?)")]
    [InlineData("seeds: [1, 2, 3]", "seeds: [1, two]", "13:12: seeds: expected whole numbers")]
    [InlineData("  alpha: { values: [0.25, 0.5, 0.75] }", "  alpha: { values: [0.25, 1.5] }", "10:27: loss.alpha: alpha = 1.5 is outside [0, 1]")]
    [InlineData("  temperature: { values: [2, 4] }", "  temperature: { values: [2, 0] }", "11:30: loss.temperature: temperature = 0 must be a positive number")]
    [InlineData("  temperature: { values: [2, 4] }", "  temperature: { values: [] }", "11:26: parameters.temperature.values: is empty")]
    [InlineData("[ce, hinton, triplet]", "[ce, hinton, tripplet]", "loss.terms: unknown loss 'tripplet' (did you mean 'triplet'?)")]
    [InlineData("  model: mlp-400", "  model: mlp-4000x", "5:10: model.name: model 'mlp-4000x'")]
    [InlineData("teacher: { model: mlp-1200-1200, epochs: 10 }", "teacher: { model: mlp-1200-1200, epochs: 10, optimizer: adamm }", "3:57: optimizer.name: unknown optimizer 'adamm' (did you mean 'adam'?)")]
    [InlineData("dataset: { name: fashion-mnist, validation: 5000 }", "dataset: { name: cifar-10 }", "2:18: dataset.name: unknown dataset 'cifar-10' (did you mean 'cifar10'?)")]
    [InlineData("seeds: [1, 2, 3]", "seeds: [1, 2, 3]\nmax_trials: 20", "max_trials: the grid has 12 point(s) (3 x 2 x 2) x 3 seed(s) = 36 trials, over max_trials = 20")]
    [InlineData("method: grid", "method: grid\nmetric: test_accuracy", "9:9: metric.name: 'test_accuracy': a sweep chooses on validation data, never on the test set")]
    [InlineData("  alpha: { values: [0.25, 0.5, 0.75] }", "  alpha: { min: 0.1, max: 0.9 }", "10:17: parameters.alpha.min: a grid needs a finite list")]
    [InlineData("method: grid", "method: hyperopt", "8:9: method: 'hyperopt' is not a search method")]
    [InlineData("  alpha: { values: [0.25, 0.5, 0.75] }", "  alpha: [0.5, 0.9]", "10:10: parameters.alpha: a list of values is written alpha: { values: [0.5, 0.9] }.")]
    [InlineData("  alpha: { values: [0.25, 0.5, 0.75] }", "  alpha: 0.5", "10:10: parameters.alpha: one value is written alpha: { value: 0.5 }")]
    [InlineData("teacher: { model: mlp-1200-1200, epochs: 10 }", "teacher: { modle: mlp-1200-1200, epochs: 10 }", "3:12: unknown key 'modle' (did you mean 'model'?); model: missing; e.g. model: mlp-400")]
    [InlineData("  epochs: 20", "  epoch: 20", "6:3: unknown key 'epoch' (did you mean 'epochs'?); epochs: missing; e.g. epochs: 10")]
    [InlineData("[ce, hinton, triplet]", "[ce, kl]", "loss.terms: unknown loss 'kl' (did you mean 'hinton'? it computes KL(softmax(t/T) || softmax(s/T)) * T^2)")]
    [InlineData("  model: mlp-400\n", "  model: mlp-400\n epochs: 20\n", "most likely indentation")]
    public void Bad_sweeps_are_rejected_with_file_line_column_and_a_fix(string find, string replace, string message)
    {
        Grid.ShouldContain(find);
        var error = Error(Grid.Replace(find, replace));
        error.Message.ShouldContain(message);
        error.Message.ShouldContain("sweep.yaml:");
    }

    [Theory]
    [InlineData("early_terminate: { type: median, min_iter: 3 }", "14:26: early_terminate.type: 'median' is not an early termination")]
    [InlineData("early_terminate: { min_iter: 3 }", "14:18: early_terminate.type: missing; early_terminate needs type: hyperband")]
    [InlineData("early_terminate: { type: hyperband, min_iter: 3, eta: 1 }", "14:55: early_terminate.eta: must be greater than 1")]
    [InlineData("early_terminate: { type: hyperband, min_iter: 3, max_iter: 27, s: 2 }", "early_terminate.max_iter: give min_iter (the first band, in epochs), or max_iter and s")]
    [InlineData("early_terminate: { type: hyperband, max_iter: 27 }", "14:47: early_terminate.max_iter: needs s: the number of bands")]
    [InlineData("early_terminate: { type: hyperband, min_iter: 3, s: 2 }", "14:53: early_terminate.s: goes with max_iter")]
    [InlineData("early_terminate: { type: hyperband, min_iter: 30 }", "14:18: early_terminate: no band falls within the students' 20 epochs")]
    [InlineData("early_terminate: { type: hyperband, min_iter: 3, stric: true }", "unknown key 'early_terminate.stric' (did you mean 'strict'?)")]
    [InlineData("metric: { name: val_accuracy, target: 90 }", "14:39: metric.target: 90 is not an accuracy: give a fraction")]
    public void Bad_early_termination_and_targets_are_rejected_at_their_line(string added, string message)
    {
        var error = Error(Grid + "\n" + added);
        error.Message.ShouldContain(message);
        error.Message.ShouldContain("sweep.yaml:");
    }

    [Fact]
    public void Early_termination_and_the_target_reach_the_submitted_sweep()
    {
        var plan = Plan(Grid + "\nearly_terminate: { type: hyperband, max_iter: 27, s: 2, strict: true }\nmetric: { name: val_accuracy, target: 0.9 }");
        plan.Bands.ShouldBe([3, 9]);
        var submitted = SweepSubmission.From(plan, TestData.TemporaryDirectory());
        (submitted.EarlyTermination.Bands, submitted.EarlyTermination.Eta, submitted.EarlyTermination.Strict).ShouldBe(([3, 9], 3.0, true));
        (submitted.HasTarget, submitted.Target).ShouldBe((true, 0.9));
        SweepSubmission.From(Plan(Grid), TestData.TemporaryDirectory()).EarlyTermination.ShouldBeNull();
    }

    [Fact]
    public void Several_objectives_and_constraints_reach_the_submitted_sweep()
    {
        var plan = Plan(Grid + "\nmetric:\n  - val_accuracy\n  - { name: latency_ms }\n  - { name: params, goal: minimize }\n" +
                        "constraints: { params: { max: 1e6 }, val_accuracy: { min: 0.9, max: 1 } }");
        plan.Sweep.Metric.ShouldBe(new SweepMetric("val_accuracy", Maximize: true));
        plan.Sweep.OtherObjectives.ShouldBe([new SweepMetric("latency_ms", Maximize: false), new SweepMetric("params", Maximize: false)]);
        var submitted = SweepSubmission.From(plan, TestData.TemporaryDirectory());
        submitted.Objectives.Select(o => (o.Name, o.Maximize)).ShouldBe([("latency_ms", false), ("params", false)]);
        submitted.Constraints.Select(c => (c.Name, c.HasMin, c.HasMax, c.Max)).ShouldBe([("params", false, true, 1e6), ("val_accuracy", true, true, 1.0)]);
        SweepSubmission.From(Plan(Grid), TestData.TemporaryDirectory()).Objectives.ShouldBeEmpty(); // one objective, as before
    }

    [Theory]
    [InlineData("metric: [latency_ms, val_accuracy]", "14:10: metric[0].name: latency_ms is known only once a trial ends, and the first objective judges every epoch")]
    [InlineData("metric: [val_accuracy, latency]", "14:24: metric[1].name: unknown metric 'latency'; use one of val_accuracy, val_loss, params, macs")]
    [InlineData("metric: [val_accuracy, val_accuracy]", "metric: names val_accuracy twice")]
    [InlineData("metric: [val_accuracy, { name: params, target: 1000 }]", "metric[1].target: only the first objective has a target.")]
    [InlineData("metric: [val_accuracy, test_accuracy]", "metric[1].name: 'test_accuracy': a sweep chooses on validation data, never on the test set")]
    [InlineData("constraints: { latency: { max: 1 } }", "14:25: constraints.latency: unknown measure; bound one of val_accuracy")]
    [InlineData("constraints: { params: { min: 10, max: 1 } }", "constraints.params: min 10 is above max 1: no point could keep it.")]
    [InlineData("constraints: { params: { }  }", "constraints.params: give min, max or both, e.g. { max: 1e6 }.")]
    [InlineData("constraints: { params: { maximum: 3 } }", "unknown key 'constraints.params.maximum'")]
    public void Bad_objectives_and_constraints_are_rejected_at_their_line(string added, string message)
    {
        var error = Error(Grid + "\n" + added);
        error.Message.ShouldContain(message);
        error.Message.ShouldContain("sweep.yaml:");
    }

    [Fact]
    public void An_unknown_parameter_path_is_reported_at_the_parameter()
    {
        var error = Error(Grid.Replace("  losses: {", "  student.optimiser.lr: { values: [0.1] }\n  losses: {"));
        error.Message.ShouldContain("sweep.yaml:12:3: unknown key 'optimiser' (did you mean 'optimizer'?)");
    }

    [Fact]
    public void A_random_range_is_checked_at_both_ends()
    {
        const string random = "name: r\ndataset: mnist\nstudent: { model: mlp-400, epochs: 1, loss: { terms: [ce, hinton], alpha: 0.5 } }\n" +
                              "teacher: { model: mlp-512, epochs: 1 }\nmethod: random\nrun_cap: 3\nparameters:\n  alpha: { min: 0.5, max: 1.5 }\n";
        Error(random).Message.ShouldContain("sweep.yaml:8:3: loss.alpha: alpha = 1.5 is outside [0, 1]");
        Error(random.Replace("run_cap: 3\n", "")).Message.ShouldContain("run_cap: random search needs run_cap");
    }

    [Fact]
    public void A_distilling_student_without_a_teacher_is_rejected() =>
        Error(Grid.Replace("teacher: { model: mlp-1200-1200, epochs: 10 }\n", "")).Message.ShouldContain("which need a teacher; add a teacher section");

    [Fact]
    public void Seeds_belong_at_the_top_level() =>
        Error(Grid.Replace("  epochs: 20", "  epochs: 20\n  seed: 4")).Message.ShouldContain("7:3: student.seed: set seed at the top level of the sweep as seeds: [...]");

    [Fact]
    public async Task Validate_command_prints_the_plan_and_exits_0_or_2()
    {
        var (code, stdout, stderr) = await OrchestratorProcess.RunAsync("validate", TestData.WriteFile("sweep.yaml", Grid), "--show", "2");
        code.ShouldBe(0, stderr);
        stdout.ShouldContain("kd-grid: valid. grid search, 12 point(s) x 3 seed(s) = 36 student trial(s), and 3 baseline(s) (each distilled student alone on labels, same seed), " +
                             "1 teacher job(s), 5 soft-target job(s); chooses on val_accuracy (maximize).");
        stdout.ShouldContain("... and 34 more");
        stdout.ShouldContain("baseline (the student alone on labels), seed 1");
        stdout.ShouldContain("... and 1 more baseline(s)");
        // A labels-only point among loss combinations is the baselines: the sum says so.
        string withCe = Grid.Replace("losses: { values: [[ce, hinton], [ce, hinton, triplet]] }", "losses: { values: [[ce, hinton], [ce]] }");
        (code, stdout, _) = await OrchestratorProcess.RunAsync("validate", TestData.WriteFile("sweep.yaml", withCe));
        stdout.ShouldContain("12 point(s) x 3 seed(s) = 36 trial(s): 18 student trial(s) to run, 18 labels-only (trained as the baselines, or the same as another), and 3 baseline(s)");
        (code, _, stderr) = await OrchestratorProcess.RunAsync("validate", TestData.WriteFile("sweep.yaml", Grid.Replace("seeds: [1, 2, 3]", "seeds: []")));
        code.ShouldBe(2);
        stderr.ShouldContain("seeds: is empty");
    }

    [Fact]
    public void Attention_transfer_plans_no_soft_targets_and_is_refused_with_a_teacher_that_cannot_give_feature_maps()
    {
        const string Sweep = """
            name: at
            dataset: { name: fashion-mnist, validation: 5000 }
            teacher: { model: resnet14, epochs: 1 }
            student: { model: resnet8, epochs: 1, loss: { weights: { ce: 1, at: 1000 } } }
            soft_targets: { mode: online }
            parameters:
              student.loss.stages: { values: [[stage3], [stage1, stage2, stage3]] }
            seeds: [1]
            """;
        var plan = Plan(Sweep);
        plan.Students.Count.ShouldBe(2);
        plan.Students.Select(s => s.Config!.Loss.Stages!.Count).Order().ShouldBe([1, 3]);
        plan.Jobs.ShouldNotContain(j => j.Kind == JobKind.SoftTargets || j.Kind == JobKind.SoftTargetShard); // the teacher runs online
        Should.Throw<UserInputException>(() => Plan(Sweep.Replace("soft_targets: { mode: online }", "soft_targets: { mode: cached }")))
            .Message.ShouldContain("soft_targets.mode: at compare the teacher's feature maps, which are computed online every step, not stored");
        Should.Throw<UserInputException>(() => Plan(Sweep.Replace("soft_targets: { mode: online }", "")))
            .Message.ShouldContain("sweep.yaml: soft_targets: missing; at compare the teacher's feature maps");
        Should.Throw<UserInputException>(() => Plan(Sweep.Replace("model: resnet14", "model: mlp-64")))
            .Message.ShouldContain("sweep.yaml: teacher: the teacher has no stage3 for loss.stages (it names no stages: the zoo's models do).");
    }

    /// <summary>How many student trials each example sweep plans (fmnist-kd-random distils a checkpoint that examples/trials/fmnist-teacher-cnn.yaml trains first).</summary>
    internal static readonly Dictionary<string, int> ExampleStudents = new()
    {
        ["fmnist-quickstart.yaml"] = 8 * 2,
        ["fmnist-kd-grid.yaml"] = 3 * 3 * 2 * 3,
        ["fmnist-ensemble.yaml"] = 2 * 3, // [ce] is the baselines (one per seed, whatever the teachers), not a point
        ["cifar10-kd-tutorial.yaml"] = 3 * 4 * 3, // alpha x T; the student alone is the baselines
        ["mnist-dark-knowledge.yaml"] = 3 * 3 * 3,
        ["mnist-hinton-2015.yaml"] = (4 + 1) * 3, // [ce, hinton] x T, [logit-mse]; [ce] is the baselines
        ["fmnist-triplet-rkd.yaml"] = 6 * 3,
        ["cifar10-triplet-rkd.yaml"] = 5 * 3,
        ["cifar10-alexnet-hard-weight.yaml"] = 3 * 2 * 3,
        ["fmnist-kd-hyperband.yaml"] = 40,
        ["fmnist-kd-bayes.yaml"] = 0, // proposed as it runs
        ["fmnist-pack-grid.yaml"] = 4 * 4,
        ["fmnist-label-budget.yaml"] = 3 * 3,
        ["fmnist-augment-views.yaml"] = 2 * 3,
        ["fmnist-augment-online.yaml"] = 3,
        ["fmnist-zoo-resnet.yaml"] = 3,
        ["fmnist-kd-losses.yaml"] = 10 * 3,
        ["fmnist-pareto.yaml"] = 4 * 2 * 2, // models x (KD, DKD) x seeds; each model alone is the baselines
        ["cifar100-kd-benchmark.yaml"] = 6 * 3 * 3, // pairs x (KD, DKD, DIST) x seeds
    };

    public static TheoryData<string> Examples => new(ExampleStudents.Keys);

    [Theory]
    [MemberData(nameof(Examples))]
    public void Each_example_sweep_plans_its_students(string file) =>
        SweepPlanner.Plan(SweepFile.Load(Path.Combine(TestData.RepositoryRoot(), "examples", "sweeps", file)), TestData.TemporaryDirectory())
            .Students.Count.ShouldBe(ExampleStudents[file]);

    [Theory]
    [InlineData(null, 0)]
    [InlineData("execution: { pack: auto }", 0)]
    [InlineData("execution: { pack: 1 }", 1)]
    [InlineData("execution: { pack: 16 }", 16)]
    public void Execution_pack_is_auto_unless_a_number_of_trials_is_given(string? execution, int pack) =>
        Plan(execution is null ? Grid : Grid + "\n" + execution).Sweep.Pack.ShouldBe(pack);

    [Fact]
    public void Each_planned_trial_carries_its_pack_group_so_the_scheduler_reads_no_trial()
    {
        var plan = Plan(Grid + "\nexecution: { pack: 4 }");
        var submitted = SweepSubmission.From(plan, TestData.TemporaryDirectory()).Jobs;
        var students = submitted.Where(j => j.Kind == JobKind.Student).ToList();
        students.ShouldAllBe(j => j.PackGroup.CpuLimit == 4 && j.PackGroup.GpuLimit == 4);
        // Students of one seed and loss terms share a group whatever their alpha or temperature; seeds do not.
        students.GroupBy(j => j.PackGroup.Key).Count().ShouldBe(students.Select(j => (j.Seed, j.Parameters.GetValueOrDefault("losses"))).Distinct().Count());
        submitted.Where(j => j.Kind is JobKind.SoftTargetShard or JobKind.SoftTargets).ShouldAllBe(j => j.PackGroup == null);
        submitted.Single(j => j.Kind == JobKind.Teacher).PackGroup.CpuLimit.ShouldBe(4);
    }

    [Theory]
    [InlineData("execution: { pack: 0 }", "execution.pack: '0' is not auto or a number of trials from 1")]
    [InlineData("execution: { pack: 65 }", "'65' is not auto")]
    [InlineData("execution: { pack: many }", "'many' is not auto")]
    [InlineData("execution: { packs: 8 }", "packs")]
    public void A_bad_execution_pack_is_refused_with_where_and_what_to_write(string execution, string message)
    {
        var error = Error(Grid + "\n" + execution).Message;
        error.ShouldContain("sweep.yaml:");
        error.ShouldContain(message);
    }

    [Fact]
    public void Every_example_sweep_is_checked() =>
        Directory.GetFiles(Path.Combine(TestData.RepositoryRoot(), "examples", "sweeps"), "*.yaml").Select(Path.GetFileName).Order()
            .ShouldBe(ExampleStudents.Keys.Append("fmnist-kd-random.yaml").Order());

    [Fact]
    public void Hostile_yaml_is_refused_before_anything_is_built()
    {
        var deep = Error(Grid.Replace("seeds: [1, 2, 3]", "seeds: " + new string('[', 25_000) + new string(']', 25_000))); // overflowed the stack
        deep.Message.ShouldContain("sweep.yaml:13:");
        deep.Message.ShouldContain($"nested more than {Distillation.Configuration.YamlLimits.MaxDepth} levels deep");

        // Each level repeats the one before it nine times: 9^9 values from a few hundred bytes (grew a coordinator to 15 GB).
        var bomb = new System.Text.StringBuilder("a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
        for (int i = 1; i < 10; i++) bomb.Append($"a{i}: &a{i} [{string.Join(", ", Enumerable.Repeat($"*a{i - 1}", 9))}]\n");
        var aliases = Error(Grid + "\n" + bomb.ToString().Replace("a0:", "x-a0:"));
        aliases.Message.ShouldContain($"expands to more than {Distillation.Configuration.YamlLimits.MaxExpandedNodes:N0} values");
    }

    [Theory]
    [InlineData("name: \"kd-grid\\n\"")] // a second sweep, and a folder, named with a newline
    [InlineData("name: kd-grid-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("name: ../kd-grid")]
    public void A_name_that_is_not_a_plain_short_word_is_refused(string name)
    {
        Error(Grid.Replace("name: kd-grid", name)).Message.ShouldContain("sweep.yaml:1:7: name: ");
    }

    [Fact]
    public void A_leading_byte_order_mark_is_not_part_of_the_first_key()
    {
        SweepFile.Parse("\uFEFF" + Grid, "submitted.yaml").Name.ShouldBe("kd-grid"); // as a Submit's text carries it (a file read drops it itself)
    }

    [Fact]
    public void A_file_that_is_not_utf8_is_refused_at_its_first_such_byte()
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(Grid.Replace("name: kd-grid", "name: kd-grid # caf@"));
        bytes[Array.IndexOf(bytes, (byte)'@')] = 0xE9; // Latin-1
        string path = TestData.WriteFile("latin1.yaml", "");
        File.WriteAllBytes(path, bytes);
        Should.Throw<Distillation.UserInputException>(() => SweepFile.Load(path)).Message.ShouldBe(
            $"{path}:1:20: not UTF-8 text (a byte there is not UTF-8, or the file holds U+FFFD); save the file as UTF-8.");
    }

    [Fact]
    public void A_capped_grid_of_a_billion_points_plans_only_its_cap_and_oversized_settings_are_refused()
    {
        string Values(Func<int, string> value) => string.Join(", ", Enumerable.Range(1, 1000).Select(value));
        string huge = Grid
            .Replace("alpha: { values: [0.25, 0.5, 0.75] }", $"alpha: {{ values: [{Values(i => (i / 1000.0).ToString(CultureInfo.InvariantCulture))}] }}")
            .Replace("temperature: { values: [2, 4] }", $"temperature: {{ values: [{Values(i => i.ToString(CultureInfo.InvariantCulture))}] }}")
            .Replace("losses: { values: [[ce, hinton], [ce, hinton, triplet]] }", $"student.epochs: {{ values: [{Values(i => i.ToString(CultureInfo.InvariantCulture))}] }}")
            .Replace("method: grid", "method: grid\nrun_cap: 5"); // 10^9 points, built one at a time until the cap
        var plan = Plan(huge);
        plan.Points.ShouldBe(5);
        plan.Students.Select(s => s.Parameters["student.epochs"]).Distinct().ShouldBe(["1", "2", "3", "4", "5"]); // the last parameter changes fastest

        Error(Grid.Replace("teacher: { model: mlp-1200-1200, epochs: 10 }", "teacher: { model: mlp-1200-1200, epochs: 10, count: 100000 }"))
            .Message.ShouldContain($"teacher.count: must be between 1 and {SweepPlanner.MaxTeacherCopies}");
        Error(Grid + "\nmax_trials: 2000000000").Message.ShouldContain("max_trials: must be between 1 and 1,000,000");
    }

    [Theory]
    [InlineData("teacher: { model: mlp-1200-1200, epochs: 10 }", "teacher: [ { checkpoint: /dev/zero } ]", "teacher.checkpoint: /dev/zero is not a regular file")] // read it for minutes
    [InlineData("model: mlp-400", "model: mlp-99999999", "model.name: model 'mlp-99999999': '99999999' is not a layer width between 1 and 65536")]
    [InlineData("model: mlp-400", "model: mlp-65536-65536", "model.name: model 'mlp-65536-65536': its hidden layers alone hold 4,294,967,296 weights (17 GB in float32")]
    [InlineData("  epochs: 20", "  epochs: 20\n  batch_size: 2147483647", "batch_size: must be between 1 and 65536")]
    [InlineData("validation: 5000", "validation: 10000000", "dataset.validation: must be a positive number of training samples held out for validation, below fashion-mnist's 60,000")]
    public void Settings_that_would_hang_or_exhaust_the_machine_are_refused(string from, string to, string message)
    {
        Error(Grid.Replace(from, to)).Message.ShouldContain(message);
    }
}
