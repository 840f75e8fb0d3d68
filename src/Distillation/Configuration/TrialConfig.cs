using Orchestrator.Distillation.Data;
using Orchestrator.Distillation.Losses;
using Orchestrator.Distillation.Models;
using Orchestrator.Distillation.SoftTargets;
using Orchestrator.Distillation.Training;

namespace Orchestrator.Distillation.Configuration;

/// <summary>
/// One training run: a teacher trained on labels, or a student trained from a teacher checkpoint with a loss
/// combination. The YAML schema is documented in docs/trial-file.md.
/// </summary>
/// <param name="Teacher">The teacher (or ensemble) checkpoints written by earlier trials and how their outputs are used; required when the loss has distillation terms.</param>
/// <param name="Device">auto | cpu | cuda | cuda:N</param>
public sealed record TrialConfig(
    string Name,
    DataOptions Data,
    ModelSpec Model,
    TeacherEnsemble? Teacher,
    LossRecipe Loss,
    TrainingOptions Training,
    string Device)
{
    /// <summary>Identifies what the run computes (not where it runs or what it is called), for safe resume.</summary>
    public string Hash() => Hash(TeacherHashes());

    /// <summary>The same, with the teachers' hashes already computed by <see cref="TeacherHashes"/>.</summary>
    public string Hash(IReadOnlyList<string>? teacherHashes) => Identity(teacherHashes is null ? null : string.Join(",", teacherHashes));

    /// <summary>The verified SHA-256 of each teacher checkpoint, or null when the loss uses no teacher.</summary>
    public IReadOnlyList<string>? TeacherHashes() => Teacher is null || !Loss.NeedsTeacher ? null : Teacher.Members.Select(m => m.Verify()).ToList();

    /// <summary>
    /// A hash of everything the run computes, with its teachers given by <paramref name="teachers"/> (content hashes,
    /// or planned jobs' ids); teachers count only when the loss uses them.
    /// </summary>
    public string Identity(string? teachers)
    {
        var teacher = Loss.NeedsTeacher && teachers is not null ? new { Members = teachers, Teacher?.Recipe } : null;
        return ContentHash.Of(new { Data, Model, Teacher = teacher, Loss = Loss.WithoutUnusedSettings(), Training });
    }

    /// <summary>The largest batch: Fashion-MNIST's whole training set in one step is 60,000.</summary>
    public const int MaxBatchSize = 65_536;

    /// <param name="warn">Receives each setting written in an old spelling, with its place and the new one.</param>
    public static TrialConfig Load(string path, Action<string>? warn = null)
    {
        var root = ConfigMap.Load(path);
        var config = Parse(root, Path.GetFileNameWithoutExtension(path));
        foreach (string warning in root.Warnings) warn?.Invoke(warning);
        return config;
    }

    /// <summary>Reads a trial from a mapping (a trial file, or one point of a sweep); relative paths are relative to its file.</summary>
    public static TrialConfig Parse(ConfigMap root, string defaultName)
    {
        string path = root.FilePath;
        string name = root.String("name") ?? defaultName;

        var (data, source) = DatasetSection.Of(root);

        var model = root.Section("model", shorthandKey: "name") ?? throw root.Error("model", "missing; e.g. model: mlp-400, or model: { torchscript: student.pt }");
        var (modelSpec, givesEmbedding) = model.Node("torchscript") is not null
            ? TorchScriptFamily.Read(model, source)
            : (new ModelSpec(model.String("name") ?? throw model.Error("name", "missing; e.g. name: resnet8, or torchscript: student.pt"), model.Double("dropout")), true);
        model.Check(modelSpec.TorchScript is null ? "name" : "dropout", () => ModelRegistry.Validate(modelSpec));
        model.RejectUnknownKeys();

        var loss = ReadStages(root, ReadLoss(root), ModelRegistry.StagesOf(modelSpec, source.Info), modelSpec);
        if (loss.NeedsTeacherEmbedding && !givesEmbedding)
            throw root.Section("loss")!.Error("features", $"embedding: the student {modelSpec.TorchScript} returns its logits only; " +
                                                          "return (logits, embedding) from its forward, or use features: logits.");
        var augment = ReadAugment(root, source);
        var teacher = ReadTeacher(root, loss, augment, source);
        var optimizer = ReadOptimizer(root);
        var schedule = ReadSchedule(root);
        var stopping = root.Section("early_stopping", shorthandKey: "patience");
        int? patience = stopping?.Int("patience");
        if (patience is <= 0) throw stopping!.Error("patience", "must be a positive number of epochs.");
        stopping?.RejectUnknownKeys();

        int epochs = root.Int("epochs") ?? throw root.Error("epochs", "missing; e.g. epochs: 10");
        if (epochs <= 0) throw root.Error("epochs", "must be at least 1.");
        if (loss.Warmup > epochs)
            throw root.Section("loss")!.Error("warmup", $"{loss.Warmup} epochs of warm-up is longer than the {epochs} epochs of training; the distillation terms would never weigh in full. Give at most {epochs}.");
        int batch = root.Int("batch_size") ?? 256;
        if (batch is <= 0 or > MaxBatchSize) throw root.Error("batch_size", $"must be between 1 and {MaxBatchSize}.");
        int seed = root.Int("seed") ?? 0;
        string device = root.String("device") ?? "auto";
        root.RejectUnknownKeys();
        return new TrialConfig(name, data, modelSpec, teacher, loss,
            new TrainingOptions(epochs, batch, optimizer, schedule, seed, patience, Augment: augment), device);
    }

    /// <summary>augment: standard (the dataset's usual), or { crop, flip, jitter } (over standard's when preset: standard); none is null.</summary>
    static AugmentOptions? ReadAugment(ConfigMap root, DatasetSource dataset)
    {
        var section = root.Section("augment", shorthandKey: "preset");
        if (section is null) return null;
        var preset = section.String("preset") switch
        {
            null or "none" => new AugmentOptions(),
            "standard" => AugmentOptions.Standard(dataset.Name),
            var other => throw section.Error("preset", $"'{other}' is not an augmentation; write augment: standard, or augment: {{ crop: 4, flip: true, jitter: 2 }}."),
        };
        var options = new AugmentOptions(section.Int("crop") ?? preset.Crop, section.Bool("flip") ?? preset.Flip, section.Int("jitter") ?? preset.Jitter);
        section.Check(section.Node("jitter") is not null ? "jitter" : section.Node("crop") is not null ? "crop" : "preset",
            () => options.Check(dataset));
        section.RejectUnknownKeys();
        return options.IsNone ? null : options;
    }

    /// <summary>
    /// teacher: a checkpoint (one teacher), checkpoints (an ensemble) or a torchscript file, optional sha256 pins; and
    /// soft_targets: how their outputs are combined and delivered, as sweep files write it (<see cref="SoftTargetSettings"/>).
    /// The teacher section's own soft_targets, aggregation, ... (the old spelling) are still read, with a warning.
    /// </summary>
    static TeacherEnsemble? ReadTeacher(ConfigMap root, LossRecipe loss, AugmentOptions? augment, DatasetSource dataset)
    {
        var teacher = root.Section("teacher", shorthandKey: "checkpoint");
        var softTargets = root.Section("soft_targets", shorthandKey: "mode");
        if (teacher is null)
            return softTargets is null ? null : throw root.Error("soft_targets", "says how teacher outputs reach the student, but there is no teacher; add teacher: { checkpoint: ... } or remove it.");
        var members = TeacherFiles.Read(teacher, dataset, hashOf: null);
        var old = SoftTargetSettings.OldTeacherKeys.Where(k => teacher.Node(k) is not null).ToList();
        if (old.Count > 0 && softTargets is not null)
            throw teacher.Error(old[0], "is set both here and in soft_targets; keep the soft_targets section only.");
        foreach (string key in old)
            teacher.Warn(key, $"this spelling is still read; write it as soft_targets: {{ {(key == "soft_targets" ? "mode" : key)}: ... }} at the top level, as sweep files do.");
        var settings = softTargets is not null ? SoftTargetSettings.Read(softTargets) : SoftTargetSettings.Read(teacher, modeKey: "soft_targets");
        softTargets?.RejectUnknownKeys();
        var at = softTargets ?? teacher;
        at.Check("aggregation_temperature", () => LossRecipe.CheckTemperature(settings.AggregationTemperature ?? loss.Temperature));
        var ensemble = settings.Ensemble(members, loss.Temperature, augment, at);
        if (loss.NeedsFeatureMaps) CheckFeatureTeacher(teacher, softTargets, ensemble, loss, dataset);
        teacher.RejectUnknownKeys();
        return ensemble;
    }

    /// <summary>Feature losses' demands on the teacher (<see cref="FeatureTeacher"/>); its stages are checked when its checkpoint exists, else when the trial starts.</summary>
    static void CheckFeatureTeacher(ConfigMap teacher, ConfigMap? softTargets, TeacherEnsemble ensemble, LossRecipe loss, DatasetSource dataset)
    {
        string checkpoint = ensemble.Members[0].Checkpoint;
        var stages = ensemble.Members[0].TorchScript is null && File.Exists(checkpoint)
            ? ModelRegistry.StagesOf(Orchestrator.Distillation.Training.Checkpoint.ReadState(checkpoint).Model, dataset.Info)
            : null;
        if (FeatureTeacher.Problem(ensemble, loss, stages) is not { } problem) return;
        throw problem.Key == "mode" && softTargets is not null ? softTargets.Error("mode", problem.Message)
            : teacher.Error(problem.Key == "mode" ? "checkpoint" : problem.Key, problem.Message);
    }

    static LossRecipe ReadLoss(ConfigMap root)
    {
        var loss = root.Section("loss");
        if (loss is null) return LossRecipe.LabelsOnly;
        var terms = loss.StringList("terms");
        var weightsSection = loss.Section("weights");
        double? alpha = loss.Double("alpha");
        IReadOnlyDictionary<string, double> weights;
        if (weightsSection is not null)
        {
            if (terms is not null || alpha is not null)
                throw loss.Error("weights", "give either weights per term, or terms with alpha, not both.");
            var entries = weightsSection.NumberEntries();
            foreach (var (term, _) in entries) weightsSection.Check(term, () => LossRecipe.CheckTermName(term));
            weights = entries.ToDictionary(e => e.Key, e => e.Value);
            if (weights.Count == 0) throw loss.Error("weights", "is empty; e.g. weights: { ce: 0.3, hinton: 0.7 }");
        }
        else
        {
            if (terms is null) throw loss.Error("terms", "missing; e.g. terms: [ce, hinton] with alpha: 0.7");
            weights = loss.Check(alpha is < 0 or > 1 ? "alpha" : "terms", () => LossRecipe.WeightsFromAlpha(terms, alpha));
        }
        double temperature = loss.Double("temperature") ?? 4;
        loss.Check("temperature", () => LossRecipe.CheckTemperature(temperature));
        double margin = loss.Double("margin") ?? 1;
        var feature = loss.String("features") switch
        {
            null or "logits" => RelationFeature.Logits,
            "embedding" => RelationFeature.Embedding,
            var other => throw loss.Error("features", $"'{other}' is not logits or embedding."),
        };
        bool standardize = loss.Bool("standardize") ?? false;
        if (standardize && !LossTerms.AnyReads(weights.Keys, LossSettings.Standardize))
            throw loss.Error("standardize", $"standardises the logits that {string.Join(", ", LossTerms.All.Where(t => t.Reads.HasFlag(LossSettings.Standardize)).Select(t => t.Name))} " +
                                            "soften by the temperature; this loss has none of them. Add one, or remove standardize.");
        int warmup = loss.Int("warmup") ?? 0;
        if (warmup < 0) throw loss.Error("warmup", "must be a number of epochs, at least 0 (0: none).");
        var options = ReadTermOptions(loss, weights.Keys);
        var stages = loss.StringList("stages");
        loss.RejectUnknownKeys();
        return new LossRecipe(weights, temperature, margin, feature, standardize, warmup, options, stages);
    }

    /// <summary>
    /// loss.stages, checked against the student's: the stages a feature loss compares, by default every one the student
    /// has; refused without a feature loss, or for a student that names none.
    /// </summary>
    static LossRecipe ReadStages(ConfigMap root, LossRecipe recipe, IReadOnlyList<string> studentStages, ModelSpec student)
    {
        var loss = root.Section("loss");
        string terms = loss?.Node("weights") is not null ? "weights" : "terms";
        if (!recipe.NeedsFeatureMaps)
            return recipe.Stages is null ? recipe : throw loss!.Error("stages", $"names the stages that feature losses ({FeatureTeacher.AllTerms}) compare; this loss has none. Add one, or remove stages.");
        if (studentStages.Count == 0)
            throw loss!.Error(terms, $"{FeatureTeacher.TermsOf(recipe)} compare feature maps at the models' stages; {student.Name} names none (the zoo's models do: resnet8, wrn-16-2, vgg8, ...).");
        if (recipe.Stages?.FirstOrDefault(s => !studentStages.Contains(s)) is { } unknown)
            throw loss!.Error("stages", $"{student.Name} has no {unknown}; its stages are {string.Join(", ", studentStages)}.");
        if (recipe.Stages is { Count: 0 }) throw loss!.Error("stages", $"is empty; name at least one of {string.Join(", ", studentStages)}, or leave it out for all.");
        return recipe with { Stages = recipe.Stages ?? studentStages };
    }



    /// <summary>
    /// The terms' own settings, <c>loss: { dkd: { alpha: 1, beta: 8 } }</c>: every option of every term present, at its
    /// default where the file says nothing; null when no term present has options.
    /// </summary>
    static Dictionary<string, double>? ReadTermOptions(ConfigMap loss, IEnumerable<string> terms)
    {
        foreach (var term in LossTerms.All.Where(t => t.Options.Count > 0 && !terms.Contains(t.Name)))
            if (loss.Node(term.Name) is not null)
                throw loss.Error(term.Name, $"sets {term.Name}'s options, but {term.Name} is not among the loss terms; add it to weights (or terms), or remove this.");
        var options = new Dictionary<string, double>();
        foreach (var term in terms.Select(LossTerms.Get).Where(t => t.Options.Count > 0))
        {
            var section = loss.Section(term.Name);
            foreach (var (option, fallback) in term.Options)
            {
                double value = section?.Double(option) ?? fallback;
                section?.Check(option, () => term.CheckOption(option, value));
                options[$"{term.Name}.{option}"] = value;
            }
            section?.RejectUnknownKeys();
        }
        return options.Count == 0 ? null : options;
    }

    static OptimizerOptions ReadOptimizer(ConfigMap root)
    {
        var section = root.Section("optimizer", shorthandKey: "name");
        if (section is null) return new OptimizerOptions();
        string name = section.String("name") ?? "adam";
        if (!OptimizerOptions.Names.Contains(name))
            throw section.Error("name", $"unknown optimizer '{name}'{Suggest.Nearest(name, OptimizerOptions.Names)}; known: {string.Join(", ", OptimizerOptions.Names)}.");
        var options = new OptimizerOptions(name, section.Double("lr") ?? (name == "sgd" ? 0.01 : 1e-3),
            section.Double("momentum") ?? 0.9, section.Bool("nesterov") ?? false, section.Double("weight_decay") ?? 0);
        if (!(options.LearningRate > 0)) throw section.Error("lr", "must be a positive number.");
        if (options.WeightDecay < 0) throw section.Error("weight_decay", "must not be negative.");
        if (options.Nesterov && !(options.Momentum > 0)) throw section.Error("nesterov", "Nesterov momentum needs momentum > 0.");
        section.RejectUnknownKeys();
        return options;
    }

    static ScheduleOptions ReadSchedule(ConfigMap root)
    {
        var section = root.Section("schedule", shorthandKey: "name");
        if (section is null) return new ScheduleOptions();
        string name = section.String("name") ?? "none";
        if (!ScheduleOptions.Names.Contains(name))
            throw section.Error("name", $"unknown schedule '{name}'{Suggest.Nearest(name, ScheduleOptions.Names)}; known: {string.Join(", ", ScheduleOptions.Names)}.");
        var milestones = section.StringList("milestones")?.Select(m => int.TryParse(m, out int epoch) && epoch > 0 ? epoch
            : throw section.Error("milestones", $"'{m}' is not an epoch; list the epochs after which the rate drops, e.g. milestones: [150, 180, 210].")).ToList();
        if (milestones is not null && (name != "step" || section.Node("step_size") is not null))
            throw section.Error("milestones", "belong to the step schedule, instead of step_size: schedule: { name: step, milestones: [150, 180, 210], gamma: 0.1 }.");
        if (milestones is not null && !milestones.SequenceEqual(milestones.Order().Distinct()))
            throw section.Error("milestones", "must be increasing epochs, e.g. [150, 180, 210].");
        var options = new ScheduleOptions(name, section.Int("step_size") ?? 10, section.Double("gamma") ?? 0.1, section.Double("min_lr") ?? 0, milestones);
        if (options.StepSize <= 0) throw section.Error("step_size", "must be at least 1 epoch.");
        section.RejectUnknownKeys();
        return options;
    }
}
