using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Orchestrator.Distillation.Configuration;

/// <summary>
/// A YAML mapping read field by field. It remembers where every value is, so each error names
/// file:line:column and the full key, and it rejects keys nobody read (with the nearest valid name).
/// </summary>
public sealed class ConfigMap
{
    readonly YamlMappingNode node;
    readonly string file;
    readonly string prefix;
    readonly HashSet<string> known = [];
    /// <summary>Shared by a file's root and its sections: what was read but should be written otherwise.</summary>
    readonly List<string> warnings;
    /// <summary>Nodes built in code, mapped to the node in the file that caused them (whose position errors report).</summary>
    readonly IReadOnlyDictionary<YamlNode, YamlNode> origins;

    ConfigMap(YamlMappingNode node, string file, string prefix, IReadOnlyDictionary<YamlNode, YamlNode>? origins = null, List<string>? warnings = null)
    {
        this.node = node;
        this.warnings = warnings ?? [];
        this.file = file;
        this.prefix = prefix;
        this.origins = origins ?? new Dictionary<YamlNode, YamlNode>(ReferenceEqualityComparer.Instance);
    }

    public static ConfigMap Load(string path)
    {
        if (!File.Exists(path)) throw new UserInputException($"{path}: file not found.");
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>
    /// Refuses text that was not UTF-8: .NET and protobuf decode each byte that is not as U+FFFD, which would
    /// otherwise reach names and paths. A file saved in Latin-1, say.
    /// </summary>
    static void NotUtf8(string text, string path)
    {
        int at = text.IndexOf('\uFFFD');
        if (at < 0) return;
        int line = 1 + text.AsSpan(0, at).Count('\n');
        int lineStart = at == 0 ? 0 : text.LastIndexOf('\n', at - 1) + 1;
        int column = at - lineStart + 1;
        throw new UserInputException($"{path}:{line}:{column}: not UTF-8 text (a byte there is not UTF-8, or the file holds U+FFFD); save the file as UTF-8.");
    }

    /// <summary>YAML text that did not come from a local file (a submitted sweep); <paramref name="path"/> names it in errors and anchors relative paths.</summary>
    public static ConfigMap Parse(string text, string path)
    {
        text = text.TrimStart('\uFEFF'); // a byte-order mark some editors write; not part of the first key
        NotUtf8(text, path);
        var stream = new YamlStream();
        try
        {
            YamlLimits.Check(text, path);
            using var reader = new StringReader(text);
            stream.Load(reader);
        }
        catch (YamlException e)
        {
            // The parser places a tab at the start of its mapping; the line that holds it is the one to fix.
            var (line, column) = FirstIndentingTab(text) is { } tab && Explain(e).Contains("tab") ? tab : (e.Start.Line, e.Start.Column);
            throw new UserInputException($"{path}:{line}:{column}: YAML syntax error: {Explain(e)}", e);
        }
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
            throw new UserInputException($"{path}: expected a YAML mapping of settings (key: value lines) at the top level.");
        return new ConfigMap(root, path, "");
    }

    /// <summary>The parser's message, and what it most often means when it reads as a riddle: a line indented wrongly, or with a tab.</summary>
    static string Explain(YamlException e)
    {
        string message = e.InnerException?.Message ?? e.Message;
        if (message.Contains("tab")) return $"{message} (a tab: YAML indents with spaces only)";
        bool indentation = message.Contains("did not find expected key") || message.Contains("not allowed in this context")
                           || message.Contains("did not find expected '-' indicator");
        return indentation ? $"{message} (most likely indentation: the keys of one section start in the same column, this line or the one above does not)" : message;
    }

    /// <summary>Line and column (1-based) of the first tab in a line's indentation; null when none.</summary>
    static (long Line, long Column)? FirstIndentingTab(string text)
    {
        var lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            int indent = lines[i].Length - lines[i].TrimStart(' ', '\t').Length;
            int tab = lines[i].IndexOf('\t', 0, indent);
            if (tab >= 0) return (i + 1, tab + 1);
        }
        return null;
    }

    /// <summary>A mapping built in code (e.g. one point of a sweep) whose nodes keep the marks of the file they came from.</summary>
    /// <param name="prefix">How errors name this mapping's keys, e.g. "soft_targets." for a section of a larger file.</param>
    public static ConfigMap FromNode(YamlMappingNode node, string file, IReadOnlyDictionary<YamlNode, YamlNode> origins, string prefix = "") => new(node, file, prefix, origins);

    public string FilePath => file;

    /// <summary>The mapping itself, as parsed (to be edited as a copy: <c>orchestrator fork</c>).</summary>
    public YamlMappingNode Mapping => node;

    /// <summary>
    /// A path written at <paramref name="key"/> as a full path: relative paths are relative to the file's folder. Every
    /// path a file names is read through here, so that a sweep submitted over the API reads only under the coordinator's
    /// <see cref="ReadableRoots"/> (an error at the key otherwise).
    /// </summary>
    public string PathOf(string key, string written)
    {
        string path = Path.GetFullPath(written, Path.GetDirectoryName(Path.GetFullPath(file))!);
        ReadableRoots.Current?.Check(path, message => Locate(key, message));
        return path;
    }

    /// <summary>The text at <paramref name="key"/> as a path (<see cref="PathOf"/>); null when the key is absent.</summary>
    public string? PathAt(string key) => String(key) is { } value ? PathOf(key, value) : null;

    public string Where(YamlNode at)
    {
        var mark = origins.TryGetValue(at, out var origin) ? origin.Start : at.Start;
        return $"{file}:{mark.Line}:{mark.Column}";
    }

    /// <summary>What the file's settings said that still works but should be written otherwise (an old spelling), each with where it is.</summary>
    public IReadOnlyList<string> Warnings => warnings;

    public void Warn(string key, string message) => warnings.Add($"{Where(Find(key) ?? node)}: {prefix}{key}: {message}");

    /// <summary>
    /// An error about <paramref name="key"/>'s value, at it; when the key is absent (a required key missing), at the
    /// section, or at a key written there that is near its name (<c>modle</c> for <c>model</c>): most likely it, misspelled.
    /// </summary>
    public UserInputException Error(string key, string message) => new(Locate(key, message));

    string Locate(string key, string message)
    {
        if (Find(key) is { } at) return $"{Where(at)}: {prefix}{key}: {message}";
        var misspelled = node.Children.Select(c => c.Key).OfType<YamlScalarNode>()
            .FirstOrDefault(k => k.Value is { } written && written != key && !known.Contains(written) && Suggest.Nearest(written, [key]) != "");
        return misspelled is null
            ? $"{Where(node)}: {prefix}{key}: {message}"
            : $"{Where(misspelled)}: unknown key '{prefix}{misspelled.Value}' (did you mean '{key}'?); {prefix}{key}: {message}";
    }

    /// <summary>Runs a validation whose error message lacks a location, and puts <paramref name="key"/>'s location in front of it.</summary>
    public T Check<T>(string key, Func<T> validate)
    {
        try { return validate(); }
        catch (UserInputException e) when (e is not PathNotAllowedException) { throw Error(key, e.Message); } // a path refusal is located where it was written
    }

    public void Check(string key, Action validate) => Check(key, () => { validate(); return 0; });

    public string? String(string key) => Scalar(key, "a text value", s => s);

    public double? Double(string key) =>
        Scalar(key, "a number", s => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : (double?)null);

    public int? Int(string key) =>
        Scalar(key, "a whole number", s => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : (int?)null);

    public bool? Bool(string key) => Scalar(key, "true or false", s => s switch
    {
        "true" or "True" or "yes" => true,
        "false" or "False" or "no" => false,
        _ => (bool?)null,
    });

    /// <summary>A named option from a fixed set (<paramref name="fallback"/> when absent); an unknown name is an error listing the known ones.</summary>
    public T Choice<T>(string key, IReadOnlyDictionary<string, T> names, T fallback)
    {
        string? value = String(key);
        if (value is null) return fallback;
        return names.TryGetValue(value, out var choice) ? choice
            : throw Error(key, $"unknown value '{value}'{Suggest.Nearest(value, names.Keys)}; use {string.Join(", ", names.Keys)}.");
    }

    /// <summary>A nested mapping, or null when absent. A scalar is accepted as shorthand for { shorthandKey: value }.</summary>
    public ConfigMap? Section(string key, string? shorthandKey = null)
    {
        known.Add(key);
        switch (Find(key))
        {
            case null: return null;
            case YamlMappingNode map: return new ConfigMap(map, file, $"{prefix}{key}.", origins, warnings);
            case YamlScalarNode scalar when shorthandKey is not null:
                return new ConfigMap(new YamlMappingNode(new YamlScalarNode(shorthandKey), scalar), file, $"{prefix}{key}.", origins, warnings);
            case var other:
                throw new UserInputException($"{Where(other)}: {prefix}{key}: expected a mapping (key: value pairs){(shorthandKey is null ? "" : $" or a {shorthandKey}")}.");
        }
    }

    /// <summary>
    /// A list of mappings (an item may be a scalar, shorthand for { shorthandKey: value }), or null when absent; a single
    /// mapping or scalar is a list of one. Errors name an item's keys as <c>key[i].name</c>.
    /// </summary>
    public IReadOnlyList<ConfigMap>? SectionList(string key, string? shorthandKey = null)
    {
        known.Add(key);
        if (Find(key) is not YamlSequenceNode list) return Section(key, shorthandKey) is { } single ? [single] : null;
        return list.Children.Select((item, i) => item switch
        {
            YamlMappingNode map => new ConfigMap(map, file, $"{prefix}{key}[{i}].", origins, warnings),
            YamlScalarNode scalar when shorthandKey is not null =>
                new ConfigMap(new YamlMappingNode(new YamlScalarNode(shorthandKey), scalar), file, $"{prefix}{key}[{i}].", origins, warnings),
            _ => throw new UserInputException($"{Where(item)}: {prefix}{key}[{i}]: expected a mapping (key: value pairs){(shorthandKey is null ? "" : $" or a {shorthandKey}")}."),
        }).ToList();
    }

    /// <summary>A list of text values, or null when absent.</summary>
    public IReadOnlyList<string>? StringList(string key)
    {
        known.Add(key);
        return Find(key) switch
        {
            null => null,
            YamlSequenceNode list => list.Children.Select(c => c is YamlScalarNode s
                ? s.Value ?? ""
                : throw new UserInputException($"{Where(c)}: {prefix}{key}: expected a list of names, found a nested structure.")).ToList(),
            var other => throw new UserInputException($"{Where(other)}: {prefix}{key}: expected a list, e.g. [ce, hinton]."),
        };
    }

    /// <summary>The raw node under <paramref name="key"/>, for values whose shape the caller interprets; null when absent.</summary>
    public YamlNode? Node(string key)
    {
        known.Add(key);
        return Find(key);
    }

    /// <summary>Every key of this mapping with its value node, in file order (for free-form maps); marks them all known.</summary>
    public IReadOnlyList<(string Key, YamlNode KeyNode, YamlNode Value)> Entries()
    {
        var entries = node.Children.Select(c => ((c.Key as YamlScalarNode)?.Value ?? "", c.Key, c.Value)).ToList();
        foreach (var (key, _, _) in entries) known.Add(key);
        return entries;
    }

    /// <summary>Every key of this mapping with its number value (for free-form maps such as per-loss weights).</summary>
    public IReadOnlyList<(string Key, double Value)> NumberEntries()
    {
        var entries = new List<(string, double)>();
        foreach (var (keyNode, _) in node.Children)
        {
            string key = ((YamlScalarNode)keyNode).Value ?? "";
            entries.Add((key, Double(key)!.Value));
        }
        return entries;
    }

    /// <summary>Fails on the first key that was never asked for: a typo or a setting that does not exist.</summary>
    public void RejectUnknownKeys()
    {
        foreach (var (keyNode, _) in node.Children)
        {
            string key = (keyNode as YamlScalarNode)?.Value ?? keyNode.ToString();
            if (!known.Contains(key))
                throw new UserInputException($"{Where(keyNode)}: unknown key '{prefix}{key}'{Suggest.Nearest(key, known)}; valid keys here: {string.Join(", ", known)}.");
        }
    }

    YamlNode? Find(string key) =>
        node.Children.FirstOrDefault(c => c.Key is YamlScalarNode s && s.Value == key).Value;

    T? Scalar<T>(string key, string expected, Func<string, T?> parse)
    {
        known.Add(key);
        var value = Find(key);
        if (value is null) return default;
        if (value is YamlScalarNode { Value: { } text } && parse(text) is { } parsed) return parsed;
        string found = value is YamlScalarNode s ? $"'{s.Value}'" : "a nested structure";
        throw new UserInputException($"{Where(value)}: {prefix}{key}: expected {expected}, found {found}.");
    }
}
