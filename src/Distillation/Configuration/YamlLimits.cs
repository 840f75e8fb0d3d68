using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Orchestrator.Distillation.Configuration;

/// <summary>
/// Refuses YAML whose shape alone would exhaust the process before any setting is read: nesting deeper than
/// <see cref="MaxDepth"/> (building the node tree recurses, so 25,000 nested brackets overflowed the stack and took
/// the coordinator down) and aliases that expand to more than <see cref="MaxExpandedNodes"/> nodes (an alias of an
/// alias of ... doubles at each level: 776 bytes grew a coordinator to 15 GB). Checked on the parser's events, which
/// read the text once, iteratively, without building anything.
/// </summary>
public static class YamlLimits
{
    public const int MaxDepth = 64;
    public const int MaxExpandedNodes = 100_000;

    public static void Check(string text, string path)
    {
        var parser = new Parser(new StringReader(text));
        var open = new Stack<(long Nodes, string? Anchor)>();
        open.Push((0, null));
        var anchors = new Dictionary<string, long>();
        while (parser.MoveNext())
        {
            switch (parser.Current)
            {
                case NodeEvent { } node when node is SequenceStart or MappingStart:
                    if (open.Count > MaxDepth)
                        throw new UserInputException($"{path}:{node.Start.Line}:{node.Start.Column}: nested more than {MaxDepth} levels deep; a sweep file needs a few.");
                    open.Push((1, node.Anchor.IsEmpty ? null : node.Anchor.Value));
                    break;
                case SequenceEnd or MappingEnd:
                    var (nodes, anchor) = open.Pop();
                    if (anchor is not null) anchors[anchor] = nodes;
                    Add(nodes, parser.Current!);
                    break;
                case Scalar scalar:
                    if (!scalar.Anchor.IsEmpty) anchors[scalar.Anchor.Value] = 1;
                    Add(1, scalar);
                    break;
                case AnchorAlias alias:
                    Add(anchors.GetValueOrDefault(alias.Value.Value, 1), alias);
                    break;
            }
        }

        void Add(long nodes, ParsingEvent at)
        {
            var (count, anchor) = open.Pop();
            count += nodes;
            if (count > MaxExpandedNodes)
                throw new UserInputException($"{path}:{at.Start.Line}:{at.Start.Column}: the YAML expands to more than {MaxExpandedNodes:N0} values " +
                                             "(aliases that repeat aliases?); write the values out, or use fewer.");
            open.Push((count, anchor));
        }
    }
}
