using System.Globalization;
using Orchestrator.Distillation;
using Orchestrator.Distillation.Configuration;
using Orchestrator.Distillation.Data;
using Orchestrator.Distillation.Losses;
using Orchestrator.Distillation.Models;
using Orchestrator.Distillation.SoftTargets;
using Orchestrator.Distillation.Training;
using Orchestrator.Distillation.Trials;
using Orchestrator.Protocol.V1;
using YamlDotNet.RepresentationModel;

namespace Orchestrator.Coordinator.Planning;

/// <summary>
/// Expands a sweep into a job graph: grid (every combination of the listed values) or random (run_cap points drawn
/// with sampling_seed), each point crossed with every seed; teachers (one, count copies, or a list), the soft-target
/// jobs of cached students (a generation job per teacher and shard, an aggregation per ensemble), students, and for
/// each distilled student its baseline: the same student trained alone on labels (unless baseline: false).
/// The sweep's dataset (and its label budget) is the students'; teachers train on every label unless their own
/// dataset: { labels } says otherwise. Every point is read by the trial-file parser, so a bad value fails here, before anything runs, at the line of
/// the sweep file that produced it.
/// </summary>
public static class SweepPlanner
{
    const string TrialPrefix = "trial-", BaselinePrefix = "baseline-";

    /// <summary>A teacher of a point: its checkpoint (where a teacher job will write it, or a given file), what identifies it, and its job if trained here.</summary>
    sealed record Member(TeacherSource Source, string Identity, PlannedJob? Job);

    /// <param name="directory">The sweep's output folder: jobs write into its <see cref="SweepPlan.JobsFolder"/>.</param>
    /// <remarks>
    /// A bayes sweep plans no point here (they are proposed as it runs, <see cref="PlanPoints"/>): each listed value and
    /// each range's ends are checked instead, so that no proposal can be a bad trial.
    /// </remarks>
    public static SweepPlan Plan(SweepDefinition sweep, string directory)
    {
        var points = sweep.Method switch { SearchMethod.Grid => GridPoints(sweep), SearchMethod.Random => RandomPoints(sweep), _ => [] };
        var hashes = new FileHashes();
        if (sweep.Method != SearchMethod.Grid) CheckValues(sweep, hashes);
        if (sweep.Method == SearchMethod.Bayes) CheckSize(sweep, sweep.RunCap!.Value, $"run_cap proposes {sweep.RunCap} point(s)");
        var plan = PlanPoints(sweep, directory, points, hashes);
        if (sweep.EarlyTerminate is { } early && plan.Bands.Count == 0)
            throw new UserInputException($"{early.Origin}: early_terminate: no band falls within the students' {plan.StudentEpochs} epochs; " +
                                         "lower min_iter (or max_iter), or train longer.");
        return plan;
    }

    /// <summary>
    /// Why each dataset the plan's jobs read is not on this machine (the path looked in, the install command); empty
    /// when all are. A bayes sweep, which plans its students as it runs, reads its student template's dataset.
    /// </summary>
    public static IReadOnlyList<string> MissingDatasets(SweepPlan plan)
    {
        var datasets = plan.Jobs.Select(j => j.Config?.Data ?? j.SoftTargets!.Data).ToList();
        if (plan.Sweep.Method == SearchMethod.Bayes)
            datasets.Add(ParseTrial(plan.Sweep, plan.Sweep.Student, plan.Sweep.Dataset, new(ReferenceEqualityComparer.Instance), null).Data);
        return datasets.DistinctBy(d => (d.Name, d.DataDir))
            .Select(d => DatasetRegistry.Get(d).Missing(d)).OfType<string>().Distinct().ToList();
    }

    /// <summary>A bayes proposal as a point: each parameter's value of <see cref="SweepParameter.Dimension"/>.</summary>
    public static List<(SweepParameter Parameter, YamlNode Value)> PointOf(SweepDefinition sweep, IReadOnlyList<double> values) =>
        sweep.Parameters.Select((p, i) => (p, p.ValueAt(values[i]))).ToList();

    /// <summary>The jobs of these points (teachers, soft targets, students), each once.</summary>
    /// <param name="hashes">The sweep's teacher files' hashes, kept across calls (a bayes sweep plans each proposal with the same).</param>
    public static SweepPlan PlanPoints(SweepDefinition sweep, string directory, IReadOnlyList<List<(SweepParameter Parameter, YamlNode Value)>> points,
        FileHashes hashes)
    {
        string jobsDirectory = Path.Combine(Path.GetFullPath(directory), SweepPlan.JobsFolder);

        var jobs = new Dictionary<string, PlannedJob>();
        var students = new Dictionary<string, PlannedJob>();
        foreach (var point in points)
        {
            var origins = new Dictionary<YamlNode, YamlNode>(ReferenceEqualityComparer.Instance);
            var student = sweep.Student;
            var teacher = sweep.Teacher;
            var dataset = DatasetMapping(sweep, origins);
            var softTargets = sweep.SoftTargets ?? new YamlMappingNode();
            foreach (var (parameter, pointValue) in point)
            {
                if (parameter.IsDistribution) origins[pointValue] = parameter.Origin; // drawn, not written in the file
                foreach (var (path, value) in parameter.Assignments(pointValue))
                {
                    var rest = path.Skip(1).ToList();
                    switch (path[0])
                    {
                        case "student": student = YamlPaths.With(student, rest, value, parameter.Origin, origins); break;
                        case "teacher": teacher = YamlPaths.With((YamlMappingNode)teacher!, rest, value, parameter.Origin, origins); break;
                        case "dataset": dataset = YamlPaths.With(dataset, rest, value, parameter.Origin, origins); break;
                        default: softTargets = YamlPaths.With(softTargets, rest, value, parameter.Origin, origins); break;
                    }
                }
            }
            var shown = point.ToDictionary(p => p.Parameter.Name, p => Show(p.Value));
            var teacherShown = point.Where(p => p.Parameter.Sets("teacher")).ToDictionary(p => p.Parameter.Name, p => Show(p.Value));
            var members = PlanTeachers(sweep, teacher, dataset, origins, jobs, jobsDirectory, teacherShown, hashes);
            var options = ReadSoftTargetOptions(sweep, softTargets, origins);
            foreach (int seed in sweep.Seeds)
            {
                var config = ParseTrial(sweep, student, dataset, origins, extra: ("seed", seed.ToString(CultureInfo.InvariantCulture)));
                PlannedJob job;
                if (!config.Loss.NeedsTeacher) // teachers do not change it: its table row shows only the settings that do
                    job = Student(TrialPrefix + config.Identity(null), config, [], point.Where(p => p.Parameter.Sets("student")).ToDictionary(p => p.Parameter.Name, p => Show(p.Value)));
                else if (members.Count == 0)
                    throw new UserInputException($"{sweep.File}: the student's loss uses {string.Join(", ", config.Loss.Weights.Keys.Where(k => k != "ce"))}, which need a teacher; " +
                                                 "add a teacher section (a checkpoint, or settings to train one).");
                else
                {
                    // Views are of each student's own augmentation, so they are checked against it here, point by point.
                    var ensemble = options.Settings.Ensemble(members.Select(m => m.Source).ToList(), config.Loss.Temperature, config.Training.Augment, options.At);
                    if (config.Loss.NeedsFeatureMaps) CheckFeatureTeacher(sweep, ensemble, config, members, options.At);
                    config = config with { Teacher = ensemble };
                    var dependsOn = options.Settings.Mode == SoftTargetMode.Cached
                        ? [PlanSoftTargets(members, ensemble, config, options.Settings.Shards, jobs)]
                        : members.Where(m => m.Job is not null).Select(m => m.Job!.Id).ToList();
                    job = Student(TrialPrefix + config.Identity(string.Join(",", members.Select(m => m.Identity))), config, dependsOn, shown);
                    if (sweep.Baseline) job = job with { Baseline = PlanBaseline(config, point, jobs).Id };
                }
                students.TryAdd(job.Id, job);
            }
        }
        DropStudentsAlone(jobs, students);
        int epochs = students.Count > 0 ? students.Values.Max(j => j.Config!.Training.Epochs) : LongestEpochs(sweep);
        return new SweepPlan(sweep, Path.GetFullPath(directory), jobs.Values.OrderBy(j => j.Kind).Concat(students.Values).ToList(), points.Count, epochs);

        PlannedJob Student(string id, TrialConfig config, IReadOnlyList<string> dependsOn, IReadOnlyDictionary<string, string> shown) =>
            new(id, JobKind.Student, config with { Name = $"{sweep.Name}/{id}" }, null, dependsOn, shown);

        // The distilled student's settings without its teacher and with labels only: one baseline per seed for every
        // point that differs only in loss, teacher or soft-target settings; its row shows the settings that change it.
        PlannedJob PlanBaseline(TrialConfig distilled, List<(SweepParameter Parameter, YamlNode Value)> point, Dictionary<string, PlannedJob> planned)
        {
            var alone = distilled with { Teacher = null, Loss = LossRecipe.LabelsOnly };
            string id = BaselinePrefix + alone.Identity(null);
            if (planned.TryGetValue(id, out var existing)) return existing;
            var shown = point.Where(p => p.Parameter.Paths.Any(path => path[0] == "dataset" || path[0] == "student" && path[1] != "loss"))
                .ToDictionary(p => p.Parameter.Name, p => Show(p.Value));
            return planned[id] = new PlannedJob(id, JobKind.Baseline, alone with { Name = $"{sweep.Name}/{id}" }, null, [], shown);
        }
    }

    /// <summary>
    /// A point whose loss is labels only (a [ce] in the loss list) would train exactly the baseline the distilled
    /// points already have; it is left out (its numbers are every row's baseline column), not trained twice.
    /// </summary>
    static void DropStudentsAlone(Dictionary<string, PlannedJob> jobs, Dictionary<string, PlannedJob> students)
    {
        foreach (var baseline in jobs.Values.Where(j => j.Kind == JobKind.Baseline)) students.Remove(TrialPrefix + baseline.Id[BaselinePrefix.Length..]);
    }

    /// <summary>The sweep's dataset as a mapping (dataset: fashion-mnist is { name: fashion-mnist }), so a parameter can set one of its keys.</summary>
    static YamlMappingNode DatasetMapping(SweepDefinition sweep, Dictionary<YamlNode, YamlNode> origins)
    {
        if (sweep.Dataset is YamlMappingNode map) return map;
        var expanded = new YamlMappingNode(new YamlScalarNode("name"), sweep.Dataset);
        origins[expanded] = sweep.Dataset;
        return expanded;
    }

    /// <summary>
    /// A teacher's dataset: the sweep's, with every label (a label budget is the students'), unless the teacher's own
    /// dataset: { labels } sets its budget; the samples and their split are always the sweep's.
    /// </summary>
    static YamlMappingNode TeacherDataset(SweepDefinition sweep, YamlMappingNode dataset, YamlMappingNode teacher, Dictionary<YamlNode, YamlNode> origins)
    {
        var own = ConfigMap.FromNode(teacher, sweep.File, origins, "teacher.").Section("dataset");
        var labels = own?.Node("labels");
        if (own?.Entries().Select(e => e.Key).FirstOrDefault(k => k != "labels") is { } other)
            throw own.Error(other, "a teacher shares the sweep's samples and split; only its label budget (labels) can differ. Set the rest in the sweep's dataset.");
        var copy = new YamlMappingNode(dataset.Children.Where(c => c.Key is not YamlScalarNode { Value: "labels" }));
        origins[copy] = origins.TryGetValue(dataset, out var origin) ? origin : dataset;
        if (labels is not null) copy.Children[new YamlScalarNode("labels")] = labels;
        return copy;
    }

    /// <summary>
    /// The teachers of a point: a mapping (count copies with consecutive seeds, or files as <see cref="TeacherFiles"/> reads them) or a list of them.
    /// Teacher jobs are shared by every point and student with the same settings.
    /// </summary>
    static List<Member> PlanTeachers(SweepDefinition sweep, YamlNode? teacher, YamlMappingNode dataset, Dictionary<YamlNode, YamlNode> origins, Dictionary<string, PlannedJob> jobs,
        string jobsDirectory, IReadOnlyDictionary<string, string> shown, FileHashes hashes)
    {
        var members = new List<Member>();
        var items = teacher switch { null => [], YamlSequenceNode list => list.Children.Cast<YamlMappingNode>().ToList(), _ => [(YamlMappingNode)teacher] };
        foreach (var item in items)
        {
            var map = ConfigMap.FromNode(item, sweep.File, origins, "teacher.");
            if (TeacherFiles.NamesFile(map))
            {
                var (_, data) = DatasetSection.Read(ConfigMap.FromNode(dataset, sweep.File, origins, "dataset."));
                foreach (var source in TeacherFiles.Read(map, data, hashes.Of))
                    members.Add(new Member(source, source.TorchScript is null ? "sha256:" + source.Sha256 : "torchscript:" + source.Identity(source.Sha256!), null));
                map.RejectUnknownKeys();
                continue;
            }
            int count = map.Int("count") ?? 1;
            if (count is < 1 or > MaxTeacherCopies)
                throw map.Error("count", $"must be between 1 and {MaxTeacherCopies}: the number of copies of this teacher, trained with seeds seed, seed + 1, ...");
            int firstSeed = map.Int("seed") ?? 0;
            var template = new YamlMappingNode(item.Children.Where(c => c.Key is not YamlScalarNode { Value: "count" }));
            origins.TryAdd(template, item);
            var teacherDataset = TeacherDataset(sweep, dataset, item, origins);
            for (int copy = 0; copy < count; copy++)
            {
                var config = ParseTrial(sweep, template, teacherDataset, origins, extra: ("seed", (firstSeed + copy).ToString(CultureInfo.InvariantCulture)));
                if (config.Loss.NeedsTeacher) throw new UserInputException($"{sweep.File}: teacher.loss: a teacher is trained on labels; use terms: [ce] or leave loss out.");
                string id = "teacher-" + config.Identity(null);
                if (!jobs.TryGetValue(id, out var job))
                    jobs[id] = job = new PlannedJob(id, JobKind.Teacher, config with { Name = $"{sweep.Name}/{id}" }, null, [], shown);
                members.Add(new Member(new TeacherSource(Path.Combine(jobsDirectory, id, TrialFolder.BestCheckpointFile)), id, job));
            }
        }
        return members;
    }

    /// <summary>Feature losses' demands on the teacher (<see cref="FeatureTeacher"/>): a teacher the sweep trains has its model's stages.</summary>
    static void CheckFeatureTeacher(SweepDefinition sweep, TeacherEnsemble ensemble, TrialConfig student, IReadOnlyList<Member> members, ConfigMap softTargets)
    {
        var teacher = members[0];
        var stages = teacher.Job?.Config is { } trained ? ModelRegistry.StagesOf(trained.Model, DatasetRegistry.Get(trained.Data).Info)
            : teacher.Source.TorchScript is null && File.Exists(teacher.Source.Checkpoint) ? ModelRegistry.StagesOf(Checkpoint.ReadState(teacher.Source.Checkpoint).Model, DatasetRegistry.Get(student.Data).Info)
            : null;
        if (FeatureTeacher.Problem(ensemble, student.Loss, stages) is not { } problem) return;
        throw problem.Key != "mode" ? new UserInputException($"{sweep.File}: teacher: {problem.Message}")
            : sweep.SoftTargets is null ? new UserInputException($"{sweep.File}: soft_targets: missing; {problem.Message}") // no section to point at
            : softTargets.Error("mode", problem.Message);
    }

    /// <summary>The soft_targets section (<see cref="SoftTargetSettings"/>), and where it is for the errors found once a student is known.</summary>
    static (SoftTargetSettings Settings, ConfigMap At) ReadSoftTargetOptions(SweepDefinition sweep, YamlMappingNode section, Dictionary<YamlNode, YamlNode> origins)
    {
        var map = ConfigMap.FromNode(section, sweep.File, origins, "soft_targets.");
        var settings = SoftTargetSettings.Read(map, shards: true);
        map.RejectUnknownKeys();
        return (settings, map);
    }

    /// <summary>
    /// The soft-target jobs a cached student needs: per teacher and shard a generation job (shared by every
    /// ensemble with that teacher), and one aggregation job for this ensemble and recipe. Returns the aggregation's id.
    /// </summary>
    static string PlanSoftTargets(IReadOnlyList<Member> members, TeacherEnsemble ensemble, TrialConfig student, int shards, Dictionary<string, PlannedJob> jobs)
    {
        bool embeddings = student.Loss.NeedsTeacherEmbedding;
        var data = student.Data.WithAllLabels(); // teachers' outputs do not depend on the students' label budget
        var shardIds = new List<string>();
        foreach (var member in members)
            for (int shard = 0; shard < shards; shard++)
            {
                string id = "shard-" + (ensemble.Views is { } views
                    ? ContentHash.Of(new { member.Identity, Data = data, embeddings, shard, shards, Views = views.Key })
                    : ContentHash.Of(new { member.Identity, Data = data, embeddings, shard, shards }));
                var work = new SoftTargetJob(data, new TeacherEnsemble([member.Source], Views: ensemble.Views), embeddings, shards, Member: 0, Shard: shard);
                jobs.TryAdd(id, new PlannedJob(id, JobKind.SoftTargetShard, null, work, member.Job is null ? [] : [member.Job.Id], new Dictionary<string, string>()));
                shardIds.Add(id);
            }
        string aggregateId = "soft-targets-" + ContentHash.Of(new { Members = members.Select(m => m.Identity), ensemble.Recipe, Data = data, embeddings, shards });
        jobs.TryAdd(aggregateId, new PlannedJob(aggregateId, JobKind.SoftTargets, null, new SoftTargetJob(data, ensemble, embeddings, shards),
            shardIds, new Dictionary<string, string> { ["aggregation"] = TeacherEnsemble.NameOf(ensemble.Aggregation) }));
        return aggregateId;
    }

    /// <summary>A trial mapping: the dataset, the template's settings, and extra keys; read by the trial-file parser.</summary>
    static TrialConfig ParseTrial(SweepDefinition sweep, YamlMappingNode template, YamlNode dataset, Dictionary<YamlNode, YamlNode> origins, (string Key, string Value)? extra)
    {
        var trial = new YamlMappingNode(template.Children);
        origins.TryAdd(trial, template);
        trial.Children[new YamlScalarNode("dataset")] = dataset;
        if (extra is { } e) trial.Children[new YamlScalarNode(e.Key)] = new YamlScalarNode(e.Value);
        return TrialConfig.Parse(ConfigMap.FromNode(trial, sweep.File, origins), sweep.Name);
    }

    /// <summary>The most copies of one teacher (<c>count</c>): an ensemble, not a sweep of its own.</summary>
    public const int MaxTeacherCopies = 100;

    static List<List<(SweepParameter Parameter, YamlNode Value)>> GridPoints(SweepDefinition sweep)
    {
        long count = sweep.Parameters.Aggregate(1L, (n, p) => n > long.MaxValue / p.Values.Count ? long.MaxValue : n * p.Values.Count);
        long capped = sweep.RunCap is { } cap ? Math.Min(cap, count) : count;
        CheckSize(sweep, capped, $"the grid has {count} point(s) ({string.Join(" x ", sweep.Parameters.Select(p => p.Values.Count).DefaultIfEmpty(1))})");
        return Combinations(sweep.Parameters).Take((int)capped).ToList();
    }

    /// <summary>Every combination of the parameters' values, the last parameter changing fastest; made one at a time, so a capped grid is never built whole.</summary>
    static IEnumerable<List<(SweepParameter Parameter, YamlNode Value)>> Combinations(IReadOnlyList<SweepParameter> parameters)
    {
        var index = new int[parameters.Count];
        while (true)
        {
            yield return parameters.Select((p, i) => (p, p.Values[index[i]])).ToList();
            int changing = parameters.Count - 1;
            while (changing >= 0 && ++index[changing] == parameters[changing].Values.Count) index[changing--] = 0;
            if (changing < 0) yield break;
        }
    }

    static List<List<(SweepParameter Parameter, YamlNode Value)>> RandomPoints(SweepDefinition sweep)
    {
        int count = sweep.RunCap!.Value;
        CheckSize(sweep, count, $"run_cap draws {count} point(s)");
        var random = new Random(sweep.SamplingSeed);
        return Enumerable.Range(0, count).Select(_ => sweep.Parameters.Select(p => (p, p.Sample(random))).ToList()).ToList();
    }

    static void CheckSize(SweepDefinition sweep, long points, string what)
    {
        long trials = points * sweep.Seeds.Count;
        if (trials > sweep.MaxTrials)
            throw new UserInputException($"{sweep.File}: max_trials: {what} x {sweep.Seeds.Count} seed(s) = {trials} trials, over max_trials = {sweep.MaxTrials}; " +
                                         "shrink the grid, use method: random with a run_cap, or raise max_trials.");
    }

    /// <summary>The epochs of a student of a sweep that planned none yet (bayes): its template's, or the most a swept epochs can be.</summary>
    static int LongestEpochs(SweepDefinition sweep)
    {
        var origins = new Dictionary<YamlNode, YamlNode>(ReferenceEqualityComparer.Instance);
        int epochs = ParseTrial(sweep, sweep.Student, sweep.Dataset, origins, null).Training.Epochs;
        foreach (var parameter in sweep.Parameters.Where(p => p.Path.SequenceEqual(["student", "epochs"])))
            epochs = parameter.IsDistribution ? (int)parameter.Max
                : parameter.Values.Select(v => int.TryParse((v as YamlScalarNode)?.Value, out int e) ? e : 0).Max();
        return epochs;
    }

    /// <summary>
    /// Drawn or proposed values are not in the file, so what they can be is checked once: a trial at each end of a
    /// range, and (bayes, where no point is planned up front) at each listed value, must be valid.
    /// </summary>
    static void CheckValues(SweepDefinition sweep, FileHashes hashes)
    {
        foreach (var parameter in sweep.Parameters.Where(p => p.IsDistribution || sweep.Method == SearchMethod.Bayes))
            foreach (var value in parameter.IsDistribution ? [parameter.ValueAt(parameter.Min), parameter.ValueAt(parameter.Max)] : parameter.Values)
            {
                var origins = new Dictionary<YamlNode, YamlNode>(ReferenceEqualityComparer.Instance);
                if (parameter.IsDistribution) origins[value] = parameter.Origin;
                var rest = parameter.Path.Skip(1).ToList();
                switch (parameter.Path[0])
                {
                    case "soft_targets": ReadSoftTargetOptions(sweep, YamlPaths.With(sweep.SoftTargets ?? new YamlMappingNode(), rest, value, parameter.Origin, origins), origins); break;
                    case "teacher": PlanTeachers(sweep, YamlPaths.With((YamlMappingNode)sweep.Teacher!, rest, value, parameter.Origin, origins), DatasetMapping(sweep, origins), origins, [], "", new Dictionary<string, string>(), hashes); break;
                    case "dataset": ParseTrial(sweep, sweep.Student, YamlPaths.With(DatasetMapping(sweep, origins), rest, value, parameter.Origin, origins), origins, null); break;
                    default: ParseTrial(sweep, YamlPaths.With(sweep.Student, rest, value, parameter.Origin, origins), sweep.Dataset, origins, null); break;
                }
            }
    }

    /// <summary>A value as a point's parameters show it (results, PointKey).</summary>
    internal static string Show(YamlNode value) => value switch
    {
        YamlScalarNode scalar => scalar.Value ?? "",
        YamlSequenceNode list => "[" + string.Join(", ", list.Children.Select(Show)) + "]",
        YamlMappingNode map => "{" + string.Join(", ", map.Children.Select(c => $"{Show(c.Key)}: {Show(c.Value)}")) + "}",
        _ => value.ToString(),
    };
}
