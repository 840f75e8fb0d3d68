using System.CommandLine;
using Orchestrator.Coordinator.Planning;
using Orchestrator.Distillation;
using Orchestrator.Protocol.V1;
using YamlDotNet.RepresentationModel;

namespace Orchestrator.Coordinator.Commands;

/// <summary>
/// <c>orchestrator fork &lt;sweep&gt; --set key=value ... [--name new] [--output file]</c>: a new sweep file from a
/// submitted one (its file, or a sweep a coordinator holds) with changes. The trials the two share are not trained
/// again: a node finds them finished in the coordinator's store and copies their results, so adding values to a
/// finished grid in a fork trains only the new points (the reused rows' notes say where they were trained).
/// </summary>
public static class ForkCommand
{
    public static Command Create()
    {
        var sweep = new Argument<string>("sweep") { Description = "A sweep file, or the name of a sweep on the coordinator (--endpoint), whose submitted file is forked." };
        var sets = new Option<string[]>("--set")
        {
            Description = "A change, as key=value: key a dotted path in the sweep file (student.epochs, parameters.alpha.values, metric), value YAML " +
                          "(20, [0.1, 0.5], { min: 1, max: 4 }). Repeat it for more.",
            AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [],
        };
        var name = new Option<string?>("--name") { Description = "The new sweep's name (default: the sweep's name with -fork)." };
        var output = new Option<FileInfo?>("--output", "-o") { Description = "Where to write it (default <name>.yaml here); an existing file is not overwritten." };
        var api = new ApiClientFlags();
        var command = new Command("fork", "Write a new sweep file from a submitted sweep with changes (--set key=value); trials both share are reused, not trained again.")
        {
            sweep, sets, name, output,
        };
        api.AddTo(command);
        command.SetAction(async (parse, cancellation) =>
        {
            string source = parse.GetRequiredValue(sweep);
            var (text, path) = File.Exists(source)
                ? (await File.ReadAllTextAsync(source, cancellation), Path.GetFullPath(source))
                : await FromCoordinator(api, parse, source, cancellation);
            string forked = Fork(text, path, parse.GetRequiredValue(sets), parse.GetValue(name));
            var definition = SweepFile.Parse(forked, path); // the fork must be a valid sweep, checked as validate checks it
            SweepPlanner.Plan(definition, Path.Combine("runs", definition.Name));
            string target = parse.GetValue(output)?.FullName ?? Path.GetFullPath(definition.Name + ".yaml");
            if (File.Exists(target)) throw new UserInputException($"{target} exists; give another --output, or remove it.");
            AtomicFile.WriteText(target, forked);
            Console.WriteLine($"{definition.Name}: written to {target}; submit it (orchestrator submit {target}) or run it (orchestrator local {target}). " +
                              "Trials it shares with the original are reused, not trained again.");
            return CommandLineRunner.Ok;
        });
        return command;
    }

    /// <summary>The file a coordinator's sweep was submitted with, and the path relative paths in it were read from.</summary>
    static async Task<(string Text, string Path)> FromCoordinator(ApiClientFlags api, ParseResult parse, string sweep, CancellationToken cancellation)
    {
        using var client = api.Connect(parse);
        var status = await client.Call(options => client.Sweeps.GetAsync(new GetRequest { SweepId = sweep, PageSize = 1, WithSweepFile = true }, options), cancellation);
        if (status.SweepFile.Length == 0) throw new UserInputException($"sweep '{sweep}': the coordinator no longer has the file it was submitted with; fork the file itself.");
        return (status.SweepFile, Path.GetFullPath(sweep + ".yaml"));
    }

    /// <summary>The sweep file's text with each key=value set and the new name, headed by where it came from.</summary>
    public static string Fork(string text, string path, IReadOnlyList<string> sets, string? newName)
    {
        var root = Distillation.Configuration.ConfigMap.Parse(text, path).Mapping;
        var origins = new Dictionary<YamlNode, YamlNode>(ReferenceEqualityComparer.Instance);
        string original = root.Children.TryGetValue(new YamlScalarNode("name"), out var n) && n is YamlScalarNode { Value: { } written } ? written : Path.GetFileNameWithoutExtension(path);
        foreach (string set in sets)
        {
            int equals = set.IndexOf('=');
            if (equals <= 0) throw new UserInputException($"--set {set}: write key=value, e.g. --set student.epochs=20 or --set parameters.alpha.values=[0.1,0.5].");
            var key = set[..equals].Trim().Split('.');
            if (key.Any(k => k.Length == 0)) throw new UserInputException($"--set {set}: '{set[..equals]}' is not a dotted path of keys, e.g. student.optimizer.lr.");
            root = YamlPaths.With(root, key, ParseValue(set[(equals + 1)..], set), root, origins);
        }
        root = YamlPaths.With(root, ["name"], new YamlScalarNode(newName ?? original + "-fork"), root, origins);
        using var writer = new StringWriter();
        new YamlStream(new YamlDocument(root)).Save(writer, assignAnchors: false);
        string yaml = writer.ToString().TrimEnd('.', '\n', '\r') + "\n";
        string changes = sets.Count == 0 ? "no changes" : string.Join(" ", sets.Select(s => $"--set {s}"));
        return $"# forked from {original} ({path}) with {changes}\n{yaml}";
    }

    static YamlNode ParseValue(string value, string set)
    {
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(value.Length == 0 ? "''" : value));
            return stream.Documents[0].RootNode;
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new UserInputException($"--set {set}: the value is not YAML ({e.Message}); quote text with commas or colons, e.g. --set 'notes=\"a: b\"'.");
        }
    }
}
