using Akka.Actor;
using Akka.Serialization;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Orchestrator.Protocol.V1;

namespace Orchestrator.Hosting;

/// <summary>
/// Serializes the protobuf messages of src/Protocol for Akka remoting and persistence. The manifest is the message's
/// full protobuf name, so the wire and journal formats are the .proto files, readable from any language and stable
/// across renames of C# types.
/// </summary>
public sealed class ProtobufSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    static readonly Dictionary<string, MessageParser> Parsers = new[] { ClusterReflection.Descriptor, TrialReflection.Descriptor }
        .SelectMany(file => file.MessageTypes)
        .ToDictionary(type => type.FullName, type => type.Parser);

    /// <summary>Every message type this serializer handles, for binding it in configuration.</summary>
    public static IEnumerable<Type> MessageTypes => new[] { ClusterReflection.Descriptor, TrialReflection.Descriptor }
        .SelectMany(file => file.MessageTypes).Select(type => type.ClrType);

    public override int Identifier => 4711;

    public override byte[] ToBinary(object obj) => ((IMessage)obj).ToByteArray();

    public override string Manifest(object o) => ((IMessage)o).Descriptor.FullName;

    public override object FromBinary(byte[] bytes, string manifest) =>
        Parsers.TryGetValue(manifest, out var parser)
            ? parser.ParseFrom(bytes)
            : throw new System.Runtime.Serialization.SerializationException($"Unknown protobuf message '{manifest}'; is this node running an older or newer version?");
}
