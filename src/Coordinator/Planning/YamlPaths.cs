using YamlDotNet.RepresentationModel;

namespace Orchestrator.Coordinator.Planning;

/// <summary>Copy-on-write edits of YAML mappings: the template is never changed, untouched nodes are shared (and keep their file positions).</summary>
static class YamlPaths
{
    /// <summary>A copy of <paramref name="map"/> with <paramref name="value"/> at <paramref name="path"/>; the keys and mappings it creates are recorded in <paramref name="origins"/>.</summary>
    public static YamlMappingNode With(YamlMappingNode map, IReadOnlyList<string> path, YamlNode value, YamlNode origin, Dictionary<YamlNode, YamlNode> origins)
    {
        var copy = new YamlMappingNode(map.Children);
        origins[copy] = origins.TryGetValue(map, out var mapOrigin) ? mapOrigin : map;
        var key = map.Children.Keys.FirstOrDefault(k => k is YamlScalarNode s && s.Value == path[0]);
        if (key is null)
        {
            key = new YamlScalarNode(path[0]);
            origins[key] = origin;
        }
        if (path.Count == 1)
        {
            copy.Children[key] = value;
            return copy;
        }
        var child = map.Children.TryGetValue(key, out var existing) ? existing : null;
        var childMap = child switch
        {
            YamlMappingNode m => m,
            // A shorthand scalar (model: mlp-400) becomes its long form ({ name: mlp-400 }) so a nested key can be set.
            YamlScalarNode s => new YamlMappingNode(new YamlScalarNode(ShorthandKey(path[0])), s),
            _ => new YamlMappingNode(),
        };
        if (!ReferenceEquals(childMap, child)) origins[childMap] = origin;
        copy.Children[key] = With(childMap, path.Skip(1).ToList(), value, origin, origins);
        return copy;
    }

    /// <summary>The key a scalar shorthand stands for, as the trial parser reads it (model: x is { name: x }).</summary>
    static string ShorthandKey(string section) => section switch
    {
        "early_stopping" => "patience",
        "teacher" => "checkpoint",
        _ => "name",
    };
}
