using System.Globalization;
using Orchestrator.Distillation;
using Orchestrator.Distillation.Configuration;
using YamlDotNet.RepresentationModel;

namespace Orchestrator.Coordinator.Sweeps;

/// <summary>
/// Expands a sweep into jobs: grid (every combination of the listed values) or random (run_cap points drawn with
/// sampling_seed), each point crossed with every seed. Every point is read by the trial-file parser, so a bad
/// value fails here, before anything runs, at the line of the sweep file that produced it.
/// </summary>
public static class SweepPlanner
{
    public static SweepPlan Plan(SweepDefinition sweep)
    {
        var points = sweep.Method == "grid" ? GridPoints(sweep) : RandomPoints(sweep);
        if (sweep.Method == "random") CheckRangeEndpoints(sweep);

        var teachers = new Dictionary<string, PlannedJob>();
        var students = new Dictionary<string, PlannedJob>();
        foreach (var point in points)
        {
            var origins = new Dictionary<YamlNode, YamlNode>(ReferenceEqualityComparer.Instance);
            var student = sweep.Student;
            var teacher = sweep.Teacher;
            foreach (var (parameter, value) in point)
            {
                if (parameter.IsDistribution) origins[value] = parameter.Origin; // drawn, not written in the file
                if (parameter.Path[0] == "student") student = YamlPaths.With(student, parameter.Path.Skip(1).ToList(), value, parameter.Origin, origins);
                else teacher = YamlPaths.With(teacher!, parameter.Path.Skip(1).ToList(), value, parameter.Origin, origins);
            }
            var shown = point.ToDictionary(p => p.Parameter.Name, p => Show(p.Value));
            var (teacherJob, teacherCheckpoint) = PlanTeacher(sweep, teacher, origins, teachers, shown);
            foreach (int seed in sweep.Seeds)
            {
                var config = ParseTrial(sweep, student, origins, extra: ("seed", seed.ToString(CultureInfo.InvariantCulture)), teacherCheckpoint);
                string id = "trial-" + (teacherJob is null ? config.Hash() : config.Identity(teacherJob.Id));
                students.TryAdd(id, new PlannedJob(id, config with { Name = $"{sweep.Name}/{id}" }, teacherJob?.Id, shown));
            }
        }
        foreach (var job in students.Values)
            if (job.Config.Loss.NeedsTeacher && job.TeacherJob is null && job.Config.TeacherCheckpoint is null)
                throw new UserInputException($"{sweep.File}: the student's loss uses {string.Join(", ", job.Config.Loss.Weights.Keys.Where(k => k != "ce"))}, which need a teacher; " +
                                             "add a teacher section (a checkpoint, or settings to train one).");
        return new SweepPlan(sweep, teachers.Values.ToList(), students.Values.ToList(), points.Count);
    }

    /// <summary>The teacher job of this point (shared by every point with the same teacher settings), or an existing checkpoint.</summary>
    static (PlannedJob? Job, string? Checkpoint) PlanTeacher(SweepDefinition sweep, YamlMappingNode? teacher, Dictionary<YamlNode, YamlNode> origins,
        Dictionary<string, PlannedJob> teachers, IReadOnlyDictionary<string, string> shown)
    {
        if (teacher is null) return (null, null);
        var checkpointKey = teacher.Children.Keys.OfType<YamlScalarNode>().FirstOrDefault(k => k.Value == "checkpoint");
        if (checkpointKey is not null)
        {
            var map = ConfigMap.FromNode(teacher, sweep.File, origins);
            string path = Path.GetFullPath(map.String("checkpoint")!, Path.GetDirectoryName(Path.GetFullPath(sweep.File))!);
            map.RejectUnknownKeys();
            if (!File.Exists(path)) throw map.Error("checkpoint", $"teacher checkpoint {path} does not exist.");
            return (null, path);
        }
        var config = ParseTrial(sweep, teacher, origins, extra: null, teacherCheckpoint: null);
        if (config.Loss.NeedsTeacher) throw new UserInputException($"{sweep.File}: teacher.loss: a teacher is trained on labels; use terms: [ce] or leave loss out.");
        string id = "teacher-" + config.Identity(null);
        var teacherShown = shown.Where(p => sweep.Parameters.First(q => q.Name == p.Key).Path[0] == "teacher").ToDictionary();
        if (!teachers.TryGetValue(id, out var job))
            teachers[id] = job = new PlannedJob(id, config with { Name = $"{sweep.Name}/{id}" }, null, teacherShown);
        return (job, null);
    }

    /// <summary>A trial mapping: the sweep's dataset, the template's settings, and extra keys; read by the trial-file parser.</summary>
    static TrialConfig ParseTrial(SweepDefinition sweep, YamlMappingNode template, Dictionary<YamlNode, YamlNode> origins,
        (string Key, string Value)? extra, string? teacherCheckpoint)
    {
        var trial = new YamlMappingNode(template.Children);
        origins.TryAdd(trial, template);
        trial.Children[new YamlScalarNode("dataset")] = sweep.Dataset;
        if (extra is { } e) trial.Children[new YamlScalarNode(e.Key)] = new YamlScalarNode(e.Value);
        var config = TrialConfig.Parse(ConfigMap.FromNode(trial, sweep.File, origins), sweep.Name);
        return teacherCheckpoint is null ? config : config with { TeacherCheckpoint = teacherCheckpoint };
    }

    static List<List<(SweepParameter Parameter, YamlNode Value)>> GridPoints(SweepDefinition sweep)
    {
        long count = sweep.Parameters.Aggregate(1L, (n, p) => n * p.Values.Count);
        long capped = sweep.RunCap is { } cap ? Math.Min(cap, count) : count;
        CheckSize(sweep, capped, $"the grid has {count} point(s) ({string.Join(" x ", sweep.Parameters.Select(p => p.Values.Count).DefaultIfEmpty(1))})");
        var points = new List<List<(SweepParameter, YamlNode)>> { new() };
        foreach (var parameter in sweep.Parameters)
            points = points.SelectMany(point => parameter.Values.Select(value => point.Append((parameter, value)).ToList())).ToList();
        return points.Take((int)capped).ToList();
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

    /// <summary>Random values are generated, so their range is checked once: a trial at min and one at max must both be valid.</summary>
    static void CheckRangeEndpoints(SweepDefinition sweep)
    {
        foreach (var parameter in sweep.Parameters.Where(p => p.IsDistribution))
            foreach (double end in new[] { parameter.Min, parameter.Max })
            {
                var origins = new Dictionary<YamlNode, YamlNode>(ReferenceEqualityComparer.Instance);
                var value = new YamlScalarNode(end.ToString("R", CultureInfo.InvariantCulture));
                origins[value] = parameter.Origin;
                var template = parameter.Path[0] == "student" ? sweep.Student : sweep.Teacher!;
                ParseTrial(sweep, YamlPaths.With(template, parameter.Path.Skip(1).ToList(), value, parameter.Origin, origins), origins, null, null);
            }
    }

    static string Show(YamlNode value) => value switch
    {
        YamlScalarNode scalar => scalar.Value ?? "",
        YamlSequenceNode list => "[" + string.Join(", ", list.Children.Select(Show)) + "]",
        YamlMappingNode map => "{" + string.Join(", ", map.Children.Select(c => $"{Show(c.Key)}: {Show(c.Value)}")) + "}",
        _ => value.ToString(),
    };
}
