using System.Text.RegularExpressions;
using Orchestrator.Distillation;
using Orchestrator.Distillation.Configuration;
using Orchestrator.Distillation.Training;
using YamlDotNet.RepresentationModel;
using Orchestrator.Coordinator.Results;
using Orchestrator.Coordinator.Search;

namespace Orchestrator.Coordinator.Planning;

/// <summary>Reads and checks a sweep file (docs/sweep-file.md); every error names file:line:column and a fix.</summary>
public static partial class SweepFile
{
    public const int DefaultMaxTrials = 10_000;
    /// <summary>The most trials max_trials may allow: the sweep size the coordinator is measured to hold (docs/benchmarks.md, "At scale").</summary>
    public const int MostTrials = 1_000_000;

    /// <summary>A sweep's name names its folder and its journal entries: short, and nothing a path or a terminal reads otherwise (\z: no trailing newline).</summary>
    [GeneratedRegex(@"^[a-z0-9][a-z0-9._-]{0,99}\z")]
    private static partial Regex NamePattern();

    public static SweepDefinition Load(string path)
    {
        if (!File.Exists(path)) throw new UserInputException($"{path}: file not found.");
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>A sweep file's text received from a client; <paramref name="path"/> names it in errors and anchors its relative paths.</summary>
    public static SweepDefinition Parse(string text, string path) => Read(ConfigMap.Parse(text, path), text);

    static SweepDefinition Read(ConfigMap root, string text)
    {
        string path = root.FilePath;
        string name = root.String("name") ?? throw root.Error("name", "missing; a sweep needs a name, e.g. name: fmnist-kd (it identifies the sweep across restarts).");
        if (!NamePattern().IsMatch(name))
            throw root.Error("name", $"'{name}' may hold only lower-case letters, digits, '.', '_' and '-', at most 100 of them, and must start with a letter or digit.");

        string methodName = root.String("method") ?? "grid";
        if (!SearchMethods.ByName.TryGetValue(methodName, out var method))
            throw root.Error("method", $"'{methodName}' is not a search method{Suggest.Nearest(methodName, SearchMethods.ByName.Keys)}; use grid, random or bayes.");

        var objectives = ReadObjectives(root);
        var constraints = ReadConstraints(root);
        var seeds = ReadSeeds(root);
        int? runCap = root.Int("run_cap");
        if (runCap is <= 0) throw root.Error("run_cap", "must be at least 1.");
        if (method is SearchMethod.Random or SearchMethod.Bayes && runCap is null)
            throw root.Error("run_cap", $"{methodName} search needs run_cap: the number of parameter points to {(method == SearchMethod.Random ? "draw" : "propose")}.");
        int maxTrials = root.Int("max_trials") ?? DefaultMaxTrials;
        if (maxTrials is <= 0 or > MostTrials) throw root.Error("max_trials", $"must be between 1 and {MostTrials:N0}.");
        int samplingSeed = root.Int("sampling_seed") ?? 0;

        var dataset = root.Node("dataset") ?? throw root.Error("dataset", "missing; e.g. dataset: { name: fashion-mnist, validation: 5000 }");
        var student = root.Node("student") as YamlMappingNode ?? throw root.Error("student", "missing or not a mapping; give the student's trial settings (model, loss, epochs, optimizer, ...).");
        if (student.Children.Keys.OfType<YamlScalarNode>().FirstOrDefault(k => k.Value is "seed" or "dataset" or "teacher" or "name") is { } misplaced)
            throw new UserInputException($"{root.Where(misplaced)}: student.{misplaced.Value}: set {misplaced.Value} at the top level of the sweep{(misplaced.Value == "seed" ? " as seeds: [...]" : "")}.");
        var teacherNode = root.Node("teacher");
        if (teacherNode is not null and not (YamlMappingNode or YamlSequenceNode { Children.Count: > 0 }))
            throw root.Error("teacher", "expected a mapping: { checkpoint: <file> } for an existing teacher, or a teacher's trial settings (model, epochs, count, ...) " +
                                        "to train one or more; or a list of such mappings for an ensemble of different teachers.");
        if (teacherNode is YamlSequenceNode members && members.Children.FirstOrDefault(m => m is not YamlMappingNode) is { } notMapping)
            throw new UserInputException($"{root.Where(notMapping)}: teacher: every member of the list must be a mapping ({{ checkpoint: <file> }} or a teacher's trial settings).");
        var softTargets = root.Node("soft_targets");
        if (softTargets is not null and not YamlMappingNode)
            throw root.Error("soft_targets", "expected a mapping, e.g. soft_targets: { aggregation: mean-logits, mode: cached, shards: 4 }.");

        var parameters = ReadParameters(root, method, teacherNode);
        var earlyTerminate = ReadEarlyTerminate(root);
        int pack = ReadPack(root);
        bool baseline = root.Bool("baseline") ?? true;
        var prior = ReadPrior(root, method);
        root.RejectUnknownKeys();
        return new SweepDefinition(name, path, method, objectives[0], parameters, seeds, runCap, maxTrials, samplingSeed, dataset, student, teacherNode,
            softTargets as YamlMappingNode, earlyTerminate, text, pack, baseline) { OtherObjectives = objectives.Skip(1).ToList(), Constraints = constraints, Prior = prior };
    }

    /// <summary>prior: [sweep, ...]: earlier sweeps whose finished points a bayes search starts from (<see cref="PriorPoints"/>).</summary>
    static IReadOnlyList<string> ReadPrior(ConfigMap root, SearchMethod method)
    {
        var prior = root.StringList("prior");
        if (prior is null) return [];
        if (method != SearchMethod.Bayes)
            throw root.Error("prior", "feeds earlier sweeps' results to bayes search as observations; grid and random search do not read them (method: bayes, or remove prior).");
        if (prior.FirstOrDefault(name => !NamePattern().IsMatch(name)) is { } bad)
            throw root.Error("prior", $"'{bad}' is not a sweep name; list the names of earlier sweeps on this coordinator, e.g. prior: [fmnist-kd-bayes].");
        return prior.Distinct().ToList();
    }

    /// <summary>execution: { pack: auto | N }: how many compatible trials one slot may train as one pack (docs/sweep-file.md).</summary>
    static int ReadPack(ConfigMap root)
    {
        var section = root.Section("execution");
        if (section is null) return SweepDefinition.AutoPack;
        string? value = section.String("pack");
        section.RejectUnknownKeys();
        if (value is null or "auto") return SweepDefinition.AutoPack;
        if (int.TryParse(value, out int pack) && pack is >= 1 and <= PackSizing.Max) return pack;
        throw section.Error("pack", $"'{value}' is not auto or a number of trials from 1 (each trial alone) to {PackSizing.Max}.");
    }

    /// <summary>
    /// metric: one objective ({ name, goal, target }), or a list of them, whose points' means make a Pareto front. The
    /// first decides what each epoch is judged by (early termination, bayes, target), so it is a validation number.
    /// </summary>
    static IReadOnlyList<SweepMetric> ReadObjectives(ConfigMap root)
    {
        var sections = root.SectionList("metric", shorthandKey: "name");
        if (sections is null or []) return [new SweepMetric("val_accuracy", Maximize: true)];
        var objectives = sections.Select((section, i) => ReadObjective(section, first: i == 0)).ToList();
        if (objectives.GroupBy(o => o.Name).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw root.Error("metric", $"names {twice.Key} twice; each objective once.");
        return objectives;
    }

    static SweepMetric ReadObjective(ConfigMap section, bool first)
    {
        string name = section.String("name") ?? "val_accuracy";
        if (name.StartsWith("test", StringComparison.Ordinal))
            throw section.Error("name", $"'{name}': a sweep chooses on validation data, never on the test set (test accuracy is reported for the chosen trials). Use val_accuracy or val_loss.");
        if (!Measures.Known(name))
            throw section.Error("name", $"unknown metric '{name}'{Suggest.Nearest(name, Measures.Names)}; use one of {string.Join(", ", Measures.Names)}.");
        if (first && !Measures.EpochNames.Contains(name))
            throw section.Error("name", $"{name} is known only once a trial ends, and the first objective judges every epoch (early termination, bayes, target); " +
                                        $"put {string.Join(" or ", Measures.EpochNames)} first and {name} after it.");
        string goal = section.String("goal") ?? (Measures.Maximize(name) ? "maximize" : "minimize");
        if (goal is not ("maximize" or "minimize")) throw section.Error("goal", $"'{goal}' is not maximize or minimize.");
        double? target = section.Double("target");
        if (target is not null && !first) throw section.Error("target", "only the first objective has a target.");
        if (target is { } t && name == "val_accuracy" && t is <= 0 or > 1)
            throw section.Error("target", $"{t} is not an accuracy: give a fraction, e.g. target: 0.9 for 90 %.");
        section.RejectUnknownKeys();
        return new SweepMetric(name, goal == "maximize", target);
    }

    /// <summary>constraints: { params: { max: 1e6 }, val_accuracy: { min: 0.9 } }: bounds on any measure's mean over a point's seeds.</summary>
    static IReadOnlyList<SweepConstraint> ReadConstraints(ConfigMap root)
    {
        var section = root.Section("constraints");
        if (section is null) return [];
        var constraints = new List<SweepConstraint>();
        foreach (var (name, _, _) in section.Entries())
        {
            if (!Measures.Known(name))
                throw section.Error(name, $"unknown measure{Suggest.Nearest(name, Measures.Names)}; bound one of {string.Join(", ", Measures.Names)}.");
            var bounds = section.Section(name) ?? throw section.Error(name, "give bounds: { min: ..., max: ... }.");
            double? min = bounds.Double("min"), max = bounds.Double("max");
            bounds.RejectUnknownKeys();
            if (min is null && max is null) throw section.Error(name, "give min, max or both, e.g. { max: 1e6 }.");
            if (min > max) throw section.Error(name, $"min {min} is above max {max}: no point could keep it.");
            constraints.Add(new SweepConstraint(name, min, max));
        }
        return constraints;
    }

    /// <summary>early_terminate, in W&amp;B's syntax: { type: hyperband, min_iter, eta, strict } or { type: hyperband, max_iter, s, eta, strict }.</summary>
    static EarlyTerminate? ReadEarlyTerminate(ConfigMap root)
    {
        var section = root.Section("early_terminate");
        if (section is null) return null;
        string type = section.String("type") ?? throw section.Error("type", "missing; early_terminate needs type: hyperband (the only kind there is).");
        if (type != "hyperband") throw section.Error("type", $"'{type}' is not an early termination{Suggest.Nearest(type, ["hyperband"])}; use hyperband.");
        int? minIter = section.Int("min_iter"), maxIter = section.Int("max_iter"), s = section.Int("s");
        double eta = section.Double("eta") ?? Hyperband.DefaultEta;
        bool strict = section.Bool("strict") ?? false;
        section.RejectUnknownKeys();
        if (!(eta > 1)) throw section.Error("eta", $"must be greater than 1 (each band keeps the best 1/eta of the points); W&B's default is {Hyperband.DefaultEta}.");
        if ((minIter is null) == (maxIter is null))
            throw section.Error(minIter is null ? "min_iter" : "max_iter", "give min_iter (the first band, in epochs), or max_iter and s (bands max_iter / eta^k for k = 1..s), not both.");
        if (minIter is < 1) throw section.Error("min_iter", "must be at least 1 (an epoch).");
        if (maxIter is not null)
        {
            if (maxIter < 1) throw section.Error("max_iter", "must be at least 1 (an epoch).");
            if (s is null) throw section.Error("max_iter", "needs s: the number of bands (max_iter / eta, max_iter / eta^2, ...).");
            if (s < 1) throw section.Error("s", "must be at least 1.");
        }
        else if (s is not null) throw section.Error("s", "goes with max_iter; with min_iter the bands are min_iter * eta^k.");
        return new EarlyTerminate(minIter, maxIter, s, eta, strict, root.Where(root.Node("early_terminate")!));
    }

    static IReadOnlyList<int> ReadSeeds(ConfigMap root)
    {
        var node = root.Node("seeds");
        if (node is null) return [0];
        var items = node is YamlSequenceNode list ? list.Children.ToList() : [node];
        if (items.Count == 0) throw root.Error("seeds", "is empty; give at least one seed, e.g. seeds: [1, 2, 3].");
        var seeds = new List<int>();
        foreach (var item in items)
        {
            if (item is not YamlScalarNode { Value: { } text } || !int.TryParse(text, out int seed))
                throw new UserInputException($"{root.Where(item)}: seeds: expected whole numbers, e.g. seeds: [1, 2, 3].");
            if (seeds.Contains(seed)) throw new UserInputException($"{root.Where(item)}: seeds: {seed} is listed twice.");
            seeds.Add(seed);
        }
        return seeds;
    }

    static List<SweepParameter> ReadParameters(ConfigMap root, SearchMethod method, YamlNode? teacher)
    {
        var section = root.Section("parameters");
        var parameters = new List<SweepParameter>();
        if (section is null) return parameters;
        foreach (var (name, keyNode, given) in section.Entries())
        {
            if (given is YamlMappingNode tied && tied.Children.ContainsKey(new YamlScalarNode("paths")))
            {
                parameters.Add(ReadTiedParameter(section.Section(name)!, name, keyNode, method, teacher));
                continue;
            }
            var path = CheckPath(section, name, name, method, teacher);
            // W&B's syntax, which a bare list or value is not: say how to write what was meant.
            if (given is YamlSequenceNode values)
                throw section.Error(name, $"a list of values is written {name}: {{ values: [{string.Join(", ", values.Children)}] }}.");
            if (given is YamlScalarNode one)
                throw section.Error(name, $"one value is written {name}: {{ value: {one.Value} }} (a list: {name}: {{ values: [...] }}).");
            var spec = section.Section(name) ?? throw section.Error(name, "expected { value: x }, { values: [...] } or { min, max, distribution }.");
            parameters.Add(ReadParameter(spec, name, path, keyNode, method));
        }
        return parameters;
    }

    /// <summary>A parameter's path (a shorthand expanded), checked against the method and the teacher section; errors point at <paramref name="key"/>.</summary>
    static string[] CheckPath(ConfigMap section, string key, string name, SearchMethod method, YamlNode? teacher)
    {
        string full = SweepParameter.Shorthands.TryGetValue(name, out var expanded) ? expanded : name;
        var path = full.Split('.');
        if (path.Length < 2 || path[0] is not ("student" or "teacher" or "dataset" or "soft_targets") || path.Any(string.IsNullOrEmpty))
            throw section.Error(key, $"'{name}' is not a parameter: write a path into the trial settings such as student.optimizer.lr, teacher.epochs, " +
                                     $"dataset.labels or soft_targets.aggregation, or a shorthand ({string.Join(", ", SweepParameter.Shorthands.Keys)}){Suggest.Nearest(name, SweepParameter.Shorthands.Keys)}.");
        if (method == SearchMethod.Bayes && path[0] != "student")
            throw section.Error(key, "bayes proposes student settings only (every point shares the teachers and their soft targets); " +
                                     "sweep teacher or soft_targets settings with method: grid or random.");
        if (path[0] == "teacher" && teacher is null)
            throw section.Error(key, "sweeps a teacher setting, but the sweep has no teacher section.");
        if (path[0] == "teacher" && teacher is YamlSequenceNode)
            throw section.Error(key, "sweeps a teacher setting, but teacher is a list; parameters can change a single teacher mapping (use count: N for copies of one teacher).");
        return path;
    }

    /// <summary>
    /// A tied parameter: <c>pair: { paths: [teacher.model, student.model], values: [[resnet56, resnet20], [wrn-40-2, wrn-16-2]] }</c>
    /// sets every path at once from one value (a teacher and its student), where separate parameters would cross them.
    /// </summary>
    static SweepParameter ReadTiedParameter(ConfigMap spec, string name, YamlNode origin, SearchMethod method, YamlNode? teacher)
    {
        if (method == SearchMethod.Bayes) throw spec.Error("paths", "tied parameters are for grid and random search; bayes proposes one setting at a time.");
        var names = spec.StringList("paths") ?? throw spec.Error("paths", "expected a list of at least two paths, e.g. paths: [teacher.model, student.model].");
        if (names.Count < 2) throw spec.Error("paths", "ties at least two paths; one path is an ordinary parameter.");
        if (names.Distinct().Count() != names.Count) throw spec.Error("paths", "names a path twice.");
        var paths = names.Select(n => (IReadOnlyList<string>)CheckPath(spec, "paths", n, method, teacher)).ToList();
        if (spec.Node("values") is not YamlSequenceNode { Children.Count: > 0 } values)
            throw spec.Error("values", $"expected a list of {paths.Count}-element lists, e.g. values: [[resnet56, resnet20], [wrn-40-2, wrn-16-2]].");
        foreach (var value in values.Children)
            if (value is not YamlSequenceNode { Children.Count: var count } || count != paths.Count)
                throw new UserInputException($"{spec.Where(value)}: parameters.{name}.values: each value lists one element per path ({string.Join(", ", names)}).");
        spec.RejectUnknownKeys();
        return new SweepParameter(name, paths[0], origin, values.Children.ToList(), Tied: paths);
    }

    static SweepParameter ReadParameter(ConfigMap spec, string name, string[] path, YamlNode origin, SearchMethod method)
    {
        var value = spec.Node("value");
        var values = spec.Node("values");
        double? min = spec.Double("min"), max = spec.Double("max");
        string? distribution = spec.String("distribution");
        spec.RejectUnknownKeys();
        int forms = (value is null ? 0 : 1) + (values is null ? 0 : 1) + (min is null && max is null && distribution is null ? 0 : 1);
        if (forms != 1)
            throw spec.Error("value", "give exactly one of value, values, or min + max (+ distribution).");
        if (value is not null) return new SweepParameter(name, path, origin, [value]);
        if (values is not null)
        {
            if (values is not YamlSequenceNode list) throw spec.Error("values", "expected a list, e.g. values: [0.25, 0.5, 0.75].");
            if (list.Children.Count == 0) throw spec.Error("values", "is empty: an empty list leaves nothing to try; give at least one value.");
            return new SweepParameter(name, path, origin, list.Children.ToList());
        }
        if (method == SearchMethod.Grid) throw spec.Error(distribution is null ? "min" : "distribution", "a grid needs a finite list: use values: [...], or method: random for min/max ranges.");
        if (min is null || max is null) throw spec.Error(min is null ? "min" : "max", "a range needs both min and max.");
        distribution ??= "uniform";
        if (!SweepParameter.Distributions.Contains(distribution))
            throw spec.Error("distribution", $"unknown distribution '{distribution}'{Suggest.Nearest(distribution, SweepParameter.Distributions)}; use {string.Join(", ", SweepParameter.Distributions)}.");
        if (!(min < max)) throw spec.Error("max", $"max ({max}) must be greater than min ({min}).");
        if (distribution == "log_uniform_values" && !(min > 0)) throw spec.Error("min", "log_uniform_values needs min > 0.");
        return new SweepParameter(name, path, origin, [], min.Value, max.Value, distribution);
    }
}
