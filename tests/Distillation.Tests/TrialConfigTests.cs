using Orchestrator.Distillation.Configuration;
using Orchestrator.Distillation.Losses;
using Orchestrator.Distillation.SoftTargets;
using Orchestrator.Tests;
using Shouldly;

namespace Orchestrator.Distillation.Tests;

public class TrialConfigTests
{
    const string Student = """
        name: student
        dataset: { name: fashion-mnist, validation: 1000 }
        model: mlp-400
        teacher: ../teacher/best.ckpt
        loss: { terms: [ce, hinton], alpha: 0.7, temperature: 4 }
        epochs: 5
        optimizer: { name: sgd, lr: 0.1, momentum: 0.9, nesterov: true }
        schedule: { name: step, step_size: 2, gamma: 0.5 }
        early_stopping: 3
        seed: 11
        """;

    [Fact]
    public void A_full_trial_file_reads_into_typed_options()
    {
        string path = TestData.WriteFile("trial.yaml", Student);
        var config = TrialConfig.Load(path);
        config.Name.ShouldBe("student");
        config.Data.Validation.ShouldBe(1000);
        config.Model.Name.ShouldBe("mlp-400");
        config.Teacher!.Members.Single().Checkpoint.ShouldBe(Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, "../teacher/best.ckpt")));
        config.Loss.Weights["ce"].ShouldBe(0.3, tolerance: 1e-12);
        config.Loss.Weights["hinton"].ShouldBe(0.7);
        config.Loss.Temperature.ShouldBe(4);
        config.Training.Optimizer.ShouldBe(new Training.OptimizerOptions("sgd", 0.1, 0.9, true, 0));
        config.Training.Schedule.LearningRate(0.1, epoch: 4, epochs: 5).ShouldBe(0.025, tolerance: 1e-12);
        config.Training.Patience.ShouldBe(3);
        config.Training.Seed.ShouldBe(11);
    }

    [Fact]
    public void Explicit_weights_per_term_are_accepted()
    {
        var config = TrialConfig.Load(TestData.WriteFile("trial.yaml", "dataset: mnist\nmodel: mlp-400\nepochs: 1\nloss: { weights: { ce: 0.5, triplet: 1.0, rkd-da: 0.1 }, features: embedding }\n"));
        config.Loss.Weights.ShouldBe(new Dictionary<string, double> { ["ce"] = 0.5, ["triplet"] = 1.0, ["rkd-da"] = 0.1 });
        config.Loss.Feature.ShouldBe(RelationFeature.Embedding);
    }

    [Fact]
    public void An_ensemble_teacher_lists_its_checkpoints_and_how_to_combine_and_deliver_them()
    {
        string path = TestData.WriteFile("trial.yaml", Student.Replace("teacher: ../teacher/best.ckpt",
            "teacher: { checkpoints: [t1/best.ckpt, t2/best.ckpt], aggregation: mean-probs, soft_targets: online, dtype: float16 }"));
        var teacher = TrialConfig.Load(path).Teacher!;
        teacher.Members.Select(m => m.Checkpoint).ShouldBe(new[] { "t1", "t2" }.Select(t => Path.Combine(Path.GetDirectoryName(path)!, t, "best.ckpt")));
        teacher.Aggregation.ShouldBe(Aggregation.MeanProbs);
        teacher.AggregationTemperature.ShouldBe(4); // the loss temperature, unless aggregation_temperature says otherwise
        teacher.Mode.ShouldBe(SoftTargetMode.Online);
        teacher.Dtype.ShouldBe(SoftTargetDtype.Float16);
        var single = TrialConfig.Load(TestData.WriteFile("trial.yaml", Student)).Teacher!;
        (single.Aggregation, single.Mode, single.Dtype).ShouldBe((Aggregation.MeanLogits, SoftTargetMode.Cached, SoftTargetDtype.Float32));
    }

    [Fact]
    public void Soft_target_settings_are_spelled_as_in_sweep_files_and_the_old_spelling_is_read_with_a_warning()
    {
        const string Members = "teacher: { checkpoints: [t1/best.ckpt, t2/best.ckpt] }";
        var current = TrialConfig.Load(TestData.WriteFile("trial.yaml", Student.Replace("teacher: ../teacher/best.ckpt",
            Members + "\nsoft_targets: { mode: online, aggregation: mean-probs, dtype: float16 }")), _ => throw new InvalidOperationException("no warning expected"));
        var warnings = new List<string>();
        var old = TrialConfig.Load(TestData.WriteFile("trial.yaml", Student.Replace("teacher: ../teacher/best.ckpt",
            "teacher: { checkpoints: [t1/best.ckpt, t2/best.ckpt], aggregation: mean-probs, soft_targets: online, dtype: float16 }")), warnings.Add);
        static IEnumerable<string> Folders(TrialConfig trial) => trial.Teacher!.Members.Select(m => Path.GetFileName(Path.GetDirectoryName(m.Checkpoint))!);
        Folders(old).ShouldBe(Folders(current)); // each file is written to a folder of its own
        (old.Teacher! with { Members = current.Teacher!.Members }).ShouldBe(current.Teacher);
        old.Identity("t1,t2").ShouldBe(current.Identity("t1,t2")); // the same trial, whichever way it is written
        warnings.Count.ShouldBe(3);
        warnings[0].ShouldEndWith("teacher.soft_targets: this spelling is still read; write it as soft_targets: { mode: ... } at the top level, as sweep files do.");
        warnings[1].ShouldContain(":4:68: teacher.aggregation: this spelling is still read; write it as soft_targets: { aggregation: ... }");
        TrialConfig.Load(TestData.WriteFile("trial.yaml", Student.Replace("teacher: ../teacher/best.ckpt", Members + "\nsoft_targets: online"))).Teacher!.Mode
            .ShouldBe(SoftTargetMode.Online);
        Should.Throw<UserInputException>(() => TrialConfig.Load(TestData.WriteFile("trial.yaml", Student.Replace("teacher: ../teacher/best.ckpt",
            "teacher: { checkpoint: t.ckpt, dtype: float16 }\nsoft_targets: { mode: online }")))).Message.ShouldContain("teacher.dtype: is set both here and in soft_targets");
    }

    [Theory]
    [InlineData("epoch: 5", "5:1: unknown key 'epoch' (did you mean 'epochs'?)")]
    [InlineData("batch_size: five", "5:13: batch_size: expected a whole number, found 'five'")]
    [InlineData("epochs: 4", "5:1: YAML syntax error: Duplicate key epochs")]
    [InlineData("loss: { terms: [ce, hinton], alpha: 1.5 }", "5:37: loss.alpha: alpha = 1.5 is outside [0, 1]")]
    [InlineData("loss: { terms: [ce, hinton], alpha: 0.5, temperature: 0 }", "5:55: loss.temperature: temperature = 0 must be a positive number")]
    [InlineData("loss: { terms: [ce, hintn], alpha: 0.5 }", "loss.terms: unknown loss 'hintn' (did you mean 'hinton'?)")]
    [InlineData("loss: { terms: [ce, hinton] }", "loss.terms: alpha is required when terms mix ce with distillation terms")]
    [InlineData("loss: { weights: { ce: 1, rkd-d: 1 }, standardize: true }", "loss.standardize: standardises the logits that hinton, soft-ce, dkd, dist soften by the temperature; this loss has none of them")]
    [InlineData("loss: { weights: { ce: 1, dkd: 1 }, dkd: { beta: -1 } }", "5:50: loss.dkd.beta: dkd.beta = -1 must be a number of at least 0")]
    [InlineData("loss: { weights: { ce: 1, dist: 1 }, dist: { gamma: -0.5 } }", "loss.dist.gamma: dist.gamma = -0.5 must be a number of at least 0")]
    [InlineData("loss: { weights: { ce: 1, hinton: 1 }, dist: { beta: 2 } }", "loss.dist: sets dist's options, but dist is not among the loss terms")]
    [InlineData("loss: { weights: { ce: 1, dkd: 1 }, dkd: { betta: 2 } }", "unknown key 'loss.dkd.betta' (did you mean 'beta'?)")]
    [InlineData("loss: { weights: { ce: 1, dkd: 1 }, warmup: 20 }", "loss.warmup: 20 epochs of warm-up is longer than the 3 epochs of training")]
    [InlineData("loss: { weights: { ce: 1, dkd: 1 }, warmup: -1 }", "loss.warmup: must be a number of epochs, at least 0")]
    [InlineData("optimizer: { name: adma }", "5:20: optimizer.name: unknown optimizer 'adma' (did you mean 'adam'?)")]
    [InlineData("optimizer: { name: adam, lr: -1 }", "optimizer.lr: must be a positive number")]
    [InlineData("optimizer: { name: sgd, momentum: 0, nesterov: true }", "optimizer.nesterov: Nesterov momentum needs momentum > 0")]
    [InlineData("schedule: linear", "5:11: schedule.name: unknown schedule 'linear'")]
    [InlineData("schedule: { name: cosine, milestones: [150] }", "schedule.milestones: belong to the step schedule")]
    [InlineData("schedule: { name: step, milestones: [180, 150] }", "schedule.milestones: must be increasing epochs")]
    [InlineData("early_stopping: { patience: 0 }", "early_stopping.patience: must be a positive number of epochs")]
    [InlineData("teacher: { checkpoints: [a.ckpt, b.ckpt], aggregation: mean-prob }", "5:56: teacher.aggregation: unknown value 'mean-prob' (did you mean 'mean-probs'?)")]
    [InlineData("teacher: { checkpoint: a.ckpt, aggregation_temperature: 2 }", "teacher.aggregation_temperature: only mean-probs uses a temperature")]
    [InlineData("teacher: { checkpoints: [a.ckpt, b.ckpt], sha256: [00] }", "teacher.sha256: gives 1 hash(es) for 2 checkpoint(s)")]
    [InlineData("teacher: { checkpoint: a.ckpt, sha256: abc }", "teacher.sha256: 'abc' is not a SHA-256")]
    [InlineData("teacher: { checkpoint: a.ckpt, soft_targets: live }", "teacher.soft_targets: unknown value 'live'; use cached, online")]
    [InlineData("teacher: { checkpoint: a.ckpt, checkpoints: [b.ckpt] }", "teacher.checkpoints: give checkpoint (one teacher) or checkpoints (an ensemble), not both")]
    public void Bad_values_are_reported_with_file_line_column_and_a_fix(string line, string message)
    {
        string path = TestData.WriteFile("trial.yaml", $"dataset: fashion-mnist\nmodel: mlp-400\nepochs: 3\nseed: 1\n{line}\n");
        var error = Should.Throw<UserInputException>(() => TrialConfig.Load(path));
        error.Message.ShouldStartWith(path + ":");
        error.Message.ShouldContain(message);
    }

    [Fact]
    public void Dkd_reads_its_options_with_mdistillers_defaults_standardisation_and_warm_up_and_keeps_older_trials_identities()
    {
        string Trial(string loss) => TestData.WriteFile("trial.yaml", Student.Replace("loss: { terms: [ce, hinton], alpha: 0.7, temperature: 4 }", loss));
        var dkd = TrialConfig.Load(Trial("loss: { weights: { ce: 1, dkd: 1 }, dkd: { beta: 4 }, standardize: true, warmup: 2 }")).Loss;
        dkd.Options.ShouldBe(new Dictionary<string, double> { ["dkd.alpha"] = 1, ["dkd.beta"] = 4 });
        (dkd.Standardize, dkd.Warmup).ShouldBe((true, 2));
        TrialConfig.Load(Trial("loss: { weights: { ce: 1, dist: 1 } }")).Loss.Options.ShouldBe(new Dictionary<string, double> { ["dist.beta"] = 1, ["dist.gamma"] = 1 });
        // Defaults written out are the same trial as defaults left out; another beta is another trial.
        string Hash(string loss) => TrialConfig.Load(Trial(loss)).Identity(null);
        Hash("loss: { weights: { ce: 1, dkd: 1 } }").ShouldBe(Hash("loss: { weights: { ce: 1, dkd: 1 }, dkd: { alpha: 1, beta: 8 } }"));
        Hash("loss: { weights: { ce: 1, dkd: 1 } }").ShouldNotBe(Hash("loss: { weights: { ce: 1, dkd: 1 }, dkd: { beta: 4 } }"));
        // A recipe without the new settings hashes as it did before they existed (the identity of trials already run).
        var recipe = TrialConfig.Load(Trial("loss: { terms: [ce, hinton], alpha: 0.7, temperature: 4 }")).Loss;
        System.Text.Json.JsonSerializer.Serialize(recipe).ShouldBe("""{"Weights":{"ce":0.30000000000000004,"hinton":0.7},"Temperature":4,"TripletMargin":1,"Feature":0,"NeedsTeacher":true,"NeedsTeacherEmbedding":false}""");
    }

    [Fact]
    public void A_step_schedule_with_milestones_drops_the_rate_after_each_as_mdistiller_does()
    {
        string path = TestData.WriteFile("trial.yaml", "dataset: fashion-mnist\nmodel: mlp-400\nepochs: 240\nschedule: { name: step, milestones: [150, 180, 210], gamma: 0.1 }\n");
        var schedule = TrialConfig.Load(path).Training.Schedule;
        // Epochs are 0-based here: the 150th epoch (149) still runs at the base rate, the 151st at a tenth of it.
        new[] { 0, 149, 150, 179, 180, 210, 239 }.Select(e => schedule.LearningRate(0.05, e, 240)).ToArray()
            .ShouldBe([0.05, 0.05, 0.005, 0.005, 0.0005, 0.00005, 0.00005], tolerance: 1e-12);
    }

    [Fact]
    public void Unknown_dataset_is_reported_at_its_line()
    {
        string path = TestData.WriteFile("trial.yaml", "model: mlp-400\nepochs: 1\ndataset: { name: fashion_mnist }\n");
        Should.Throw<UserInputException>(() => TrialConfig.Load(path)).Message
            .ShouldBe($"{path}:3:18: dataset.name: unknown dataset 'fashion_mnist' (did you mean 'fashion-mnist'?); known: fashion-mnist, mnist, cifar10, cifar100, synthetic, or your own tensor files as train: and test:, or an image folder as images: (docs/datasets.md).");
    }

    [Fact]
    public void Yaml_syntax_error_names_the_line()
    {
        string path = TestData.WriteFile("trial.yaml", "model: mlp-400\nepochs: 1\ndataset: { name: fashion-mnist\n");
        var error = Should.Throw<UserInputException>(() => TrialConfig.Load(path));
        error.Message.ShouldStartWith(path + ":");
        error.Message.ShouldContain("YAML syntax error");
    }

    [Fact]
    public void Missing_required_setting_says_what_to_write() =>
        Should.Throw<UserInputException>(() => TrialConfig.Load(TestData.WriteFile("trial.yaml", "dataset: mnist\nmodel: mlp-400\n"))).Message.ShouldContain("epochs: missing; e.g. epochs: 10");

    [Theory]
    [InlineData("dataset: mnist\nmodle: mlp-400\nepochs: 3\n", "trial.yaml:2:1: unknown key 'modle' (did you mean 'model'?); model: missing; e.g. model: mlp-400")]
    [InlineData("dataset: mnist\nmodel: mlp-400\nepoch: 3\n", "trial.yaml:3:1: unknown key 'epoch' (did you mean 'epochs'?); epochs: missing; e.g. epochs: 10")]
    [InlineData("dataset: { nmae: mnist }\nmodel: mlp-400\nepochs: 3\n", "trial.yaml:1:12: unknown key 'dataset.nmae' (did you mean 'name'?); dataset.name: missing")]
    [InlineData("model: mlp-400\nepochs: 1\ndataset:\n  name: mnist\n validation: 100\n", "trial.yaml:5:2: YAML syntax error")]
    [InlineData("model: mlp-400\nepochs: 1\ndataset:\n\tname: mnist\n", "trial.yaml:4:1: YAML syntax error: While scanning a mapping, found invalid tab as indentation. (a tab: YAML indents with spaces only)")]
    public void A_misspelled_required_key_or_a_bad_indentation_is_named_where_it_is_written(string yaml, string message) =>
        Should.Throw<UserInputException>(() => TrialConfig.Load(TestData.WriteFile("trial.yaml", yaml))).Message.ShouldContain(message);

    [Fact]
    public void The_synthetic_dataset_holds_out_a_validation_set_that_fits_and_an_error_states_the_default()
    {
        TrialConfig.Load(TestData.WriteFile("trial.yaml", "dataset: synthetic\nmodel: mlp-16\nepochs: 1\n")).Data.Validation.ShouldBe(500);
        Should.Throw<UserInputException>(() => TrialConfig.Load(TestData.WriteFile("trial.yaml", "dataset: { name: synthetic, validation: 5000 }\nmodel: mlp-16\nepochs: 1\n")))
            .Message.ShouldContain("dataset.validation: must be a positive number of training samples held out for validation, below synthetic's 2,000 (its default is 500).");
    }

    [Fact]
    public void Missing_file_is_a_clear_error() =>
        Should.Throw<UserInputException>(() => TrialConfig.Load("/nonexistent/trial.yaml")).Message.ShouldBe("/nonexistent/trial.yaml: file not found.");

    [Fact]
    public void Configuration_hash_changes_with_what_is_computed_but_not_with_the_device()
    {
        var config = TrialConfig.Load(TestData.WriteFile("trial.yaml", "dataset: mnist\nmodel: mlp-400\nepochs: 2\n"));
        (config with { Device = "cuda" }).Hash().ShouldBe(config.Hash());
        (config with { Training = config.Training with { Seed = 5 } }).Hash().ShouldNotBe(config.Hash());
    }

    [Fact]
    public void A_loss_setting_that_no_term_reads_does_not_change_the_hash_and_one_that_a_term_reads_does()
    {
        var alone = TrialConfig.Load(TestData.WriteFile("trial.yaml", "dataset: mnist\nmodel: mlp-400\nepochs: 2\nloss: { terms: [ce], temperature: 8, margin: 2, features: embedding }\n"));
        (alone with { Loss = alone.Loss with { Temperature = 2, TripletMargin = 1, Feature = RelationFeature.Logits } }).Hash().ShouldBe(alone.Hash());

        var hinton = alone with { Loss = alone.Loss with { Weights = new Dictionary<string, double> { ["ce"] = 0.5, ["hinton"] = 0.5 } } };
        (hinton with { Loss = hinton.Loss with { Temperature = 2 } }).Hash().ShouldNotBe(hinton.Hash());
        (hinton with { Loss = hinton.Loss with { TripletMargin = 1 } }).Hash().ShouldBe(hinton.Hash());
        var triplet = alone with { Loss = alone.Loss with { Weights = new Dictionary<string, double> { ["ce"] = 0.5, ["triplet"] = 0.5 } } };
        (triplet with { Loss = triplet.Loss with { TripletMargin = 1 } }).Hash().ShouldNotBe(triplet.Hash());
        (triplet with { Loss = triplet.Loss with { Feature = RelationFeature.Logits } }).Hash().ShouldNotBe(triplet.Hash());
        (triplet with { Loss = triplet.Loss with { Temperature = 2 } }).Hash().ShouldBe(triplet.Hash());
    }
}
