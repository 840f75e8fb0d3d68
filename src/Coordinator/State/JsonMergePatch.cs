using System.Text.Json.Nodes;

namespace Orchestrator.Coordinator.State;

/// <summary>
/// RFC 7386 JSON merge patches: <see cref="Diff"/> gives the patch that turns one document into another, <see cref="Apply"/>
/// applies it. A member whose value is null in the target is left out of it (a merge patch deletes with null), which
/// reads back the same for the orchestrator's records, where a missing member is null.
/// </summary>
public static class JsonMergePatch
{
    public static string Diff(string from, string to) => Diff(JsonNode.Parse(from), to);

    /// <summary>The patch from <paramref name="from"/> (a template parsed once) to <paramref name="to"/>.</summary>
    public static string Diff(JsonNode? from, string to) => Diff(from, JsonNode.Parse(to))?.ToJsonString() ?? "null";

    public static string Apply(string target, string patch) => Apply(JsonNode.Parse(target), JsonNode.Parse(patch)) ?? "null";

    /// <summary>The patched document as JSON; <paramref name="target"/> (a template parsed once) is not changed.</summary>
    public static string? Apply(JsonNode? target, JsonNode? patch) => Merge(target, patch)?.ToJsonString();

    static JsonNode? Diff(JsonNode? from, JsonNode? to)
    {
        if (from is not JsonObject source || to is not JsonObject target) return to?.DeepClone();
        var patch = new JsonObject();
        foreach (var (name, value) in target)
        {
            if (!source.TryGetPropertyValue(name, out var old) || old is null) { if (value is not null) patch[name] = value.DeepClone(); }
            else if (value is null) patch[name] = null;
            else if (!JsonNode.DeepEquals(old, value)) patch[name] = Diff(old, value);
        }
        foreach (var (name, old) in source)
            if (old is not null && !target.ContainsKey(name)) patch[name] = null;
        return patch;
    }

    static JsonNode? Merge(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject changes) return patch?.DeepClone();
        var result = target is JsonObject source ? (JsonObject)source.DeepClone() : new JsonObject();
        foreach (var (name, value) in changes)
        {
            if (value is null) result.Remove(name);
            else result[name] = Merge(result.TryGetPropertyValue(name, out var old) ? old : null, value);
        }
        return result;
    }
}
