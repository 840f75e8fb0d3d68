using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Data;

/// <summary>
/// The arrays of a safetensors file (https://github.com/huggingface/safetensors: an 8-byte little-endian header length,
/// a JSON header of name -> dtype, shape and byte range, then the data) or of a NumPy .npz (a zip of .npy files, stored
/// or deflated), by name. Every claim of a header (its length, each array's shape and byte range) is checked against the
/// file before any memory is allocated for it, so a corrupt or hostile file is an error naming the file, not an
/// out-of-memory crash.
/// </summary>
public sealed partial class TensorFile
{
    /// <summary>One array: its element type, its shape, and where its bytes are (an offset in the file, or a zip entry and the offset of its data in it).</summary>
    public sealed record Entry(string Name, ScalarType Type, long[] Shape, long Offset, string? ZipEntry = null)
    {
        public string Describe() => $"'{Name}' ({TypeName(Type)} [{string.Join(", ", Shape)}])";
    }

    /// <summary>A header larger than this is not a dataset's (a safetensors header of a few arrays is a few hundred bytes).</summary>
    const long MaxHeaderBytes = 1 << 20;

    public string Path { get; }
    public IReadOnlyDictionary<string, Entry> Entries { get; }
    /// <summary>Text stored beside the arrays: safetensors' __metadata__, an .npz's string arrays (classes, one name per element, joined by newlines).</summary>
    public IReadOnlyDictionary<string, string> Text { get; }

    TensorFile(string path, IReadOnlyDictionary<string, Entry> entries, IReadOnlyDictionary<string, string> text) => (Path, Entries, Text) = (path, entries, text);

    public static TensorFile Open(string path)
    {
        if (!File.Exists(path)) throw new MissingDatasetException($"{path} does not exist; the dataset's train and test files are named relative to the file that names them.");
        return System.IO.Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".safetensors" => OpenSafetensors(path),
            ".npz" => OpenNpz(path),
            var other => throw new UserInputException($"{path}: '{other}' is not a tensor file this tool reads; save the arrays as .safetensors or .npz (docs/datasets.md shows how)."),
        };
    }

    /// <summary>Entry <paramref name="name"/>, or an error listing what the file holds.</summary>
    public Entry Require(string name) => Entries.TryGetValue(name, out var entry) ? entry
        : throw new UserInputException($"{Path} has no array '{name}'; it holds {(Entries.Count == 0 ? "none" : string.Join(", ", Entries.Values.Select(e => e.Describe())))}. " +
                                       "A dataset file holds 'images' and 'labels' (docs/datasets.md).");

    /// <summary>A reader of an entry's rows (elements along its first axis) for reading it in order, chunk after chunk.</summary>
    public EntryReader Reader(Entry entry) => new(this, entry);

    /// <summary>A 1-D entry whole (labels: a few bytes a sample).</summary>
    public Tensor ReadAll(Entry entry)
    {
        using var reader = Reader(entry);
        return reader.Read(0, entry.Shape.Length == 0 ? 1 : entry.Shape[0]).reshape(entry.Shape);
    }

    /// <summary>
    /// Reads rows of one entry straight into tensors' memory, keeping its stream open between reads, so that reading a
    /// compressed .npz entry chunk after chunk decompresses it once (a read elsewhere than where the last one ended reopens it).
    /// </summary>
    public sealed class EntryReader(TensorFile file, Entry entry) : IDisposable
    {
        readonly long rowBytes = entry.Shape.Skip(1).Aggregate(1L, (a, b) => a * b) * ElementSize(entry.Type);
        Stream? stream;
        ZipArchive? archive; // an .npz entry's stream reads from its archive
        long next;

        /// <summary>Rows <paramref name="first"/>..<paramref name="first"/> + <paramref name="count"/> - 1 (under 2 GB: a chunk) as a tensor of the entry's type.</summary>
        public Tensor Read(long first, long count)
        {
            if (stream is null || first != next) Open(first);
            var result = empty([count, .. entry.Shape.Skip(1)], entry.Type);
            stream!.ReadExactly(result.bytes); // the byte range was checked against the file's length when it was opened
            next = first + count;
            return result;
        }

        void Open(long first)
        {
            Dispose();
            if (entry.ZipEntry is null)
            {
                stream = File.OpenRead(file.Path);
                stream.Seek(entry.Offset, SeekOrigin.Begin);
            }
            else
            {
                archive = ZipFile.OpenRead(file.Path);
                stream = archive.GetEntry(entry.ZipEntry)!.Open();
                Skip(stream, entry.Offset);
            }
            Skip(stream, first * rowBytes);
        }

        public void Dispose()
        {
            stream?.Dispose();
            archive?.Dispose();
        }
    }

    static void Skip(Stream stream, long bytes)
    {
        if (stream.CanSeek) { stream.Seek(bytes, SeekOrigin.Current); return; }
        var buffer = new byte[1 << 16];
        for (long left = bytes; left > 0;) left -= stream.Read(buffer, 0, (int)Math.Min(buffer.Length, left)) is > 0 and var n ? n : throw new EndOfStreamException();
    }

    // ---- safetensors ----

    static readonly Dictionary<string, ScalarType> SafetensorsTypes = new()
    {
        ["U8"] = ScalarType.Byte, ["I8"] = ScalarType.Int8, ["I16"] = ScalarType.Int16, ["I32"] = ScalarType.Int32, ["I64"] = ScalarType.Int64,
        ["F16"] = ScalarType.Float16, ["F32"] = ScalarType.Float32, ["F64"] = ScalarType.Float64,
    };

    static TensorFile OpenSafetensors(string path)
    {
        using var file = File.OpenRead(path);
        long length = file.Length;
        Span<byte> prefix = stackalloc byte[8];
        if (length < 8 || file.Read(prefix) < 8) throw Corrupt(path, $"it is {length} bytes, shorter than a safetensors header's 8-byte length");
        long headerLength = BitConverter.ToInt64(prefix);
        if (headerLength <= 0 || headerLength > MaxHeaderBytes || headerLength > length - 8)
            throw Corrupt(path, $"its first 8 bytes claim a {headerLength}-byte header in a {length}-byte file");
        var header = new byte[headerLength];
        file.ReadExactly(header);
        JsonDocument json;
        try { json = JsonDocument.Parse(header); }
        catch (JsonException e) { throw Corrupt(path, $"its header is not JSON ({e.Message})"); }
        using var _ = json;
        if (json.RootElement.ValueKind != JsonValueKind.Object) throw Corrupt(path, "its header is not a JSON object");
        long dataStart = 8 + headerLength, dataLength = length - dataStart;
        var entries = new Dictionary<string, Entry>();
        var text = new Dictionary<string, string>();
        foreach (var property in json.RootElement.EnumerateObject())
        {
            if (property.Name == "__metadata__")
            {
                if (property.Value.ValueKind == JsonValueKind.Object)
                    foreach (var item in property.Value.EnumerateObject().Where(i => i.Value.ValueKind == JsonValueKind.String))
                        text[item.Name] = item.Value.GetString()!;
                continue;
            }
            try
            {
                string dtype = property.Value.GetProperty("dtype").GetString() ?? "";
                if (!SafetensorsTypes.TryGetValue(dtype, out var type))
                    throw Corrupt(path, $"array '{property.Name}' has dtype {dtype}, which this tool does not read (U8, I8, I16, I32, I64, F16, F32, F64)");
                long[] shape = property.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
                long[] range = property.Value.GetProperty("data_offsets").EnumerateArray().Select(d => d.GetInt64()).ToArray();
                var entry = new Entry(property.Name, type, shape, 0);
                long bytes = Bytes(path, entry);
                if (range.Length != 2 || range[0] < 0 || range[1] < range[0] || range[1] > dataLength)
                    throw Corrupt(path, $"array {entry.Describe()} lies at bytes [{string.Join(", ", range)}] of a {dataLength}-byte data section: the file is truncated or its header is wrong");
                if (range[1] - range[0] != bytes)
                    throw Corrupt(path, $"array {entry.Describe()} needs {bytes:N0} bytes, but its byte range holds {range[1] - range[0]:N0}");
                entries[property.Name] = entry with { Offset = dataStart + range[0] };
            }
            catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
            {
                throw Corrupt(path, $"array '{property.Name}' lacks a dtype, shape or data_offsets of the right kind");
            }
        }
        return new TensorFile(path, entries, text);
    }

    /// <summary>
    /// The start of a safetensors file holding arrays of these types and shapes, in this order: its 8-byte length and
    /// its JSON header, padded with spaces so that the data that follows starts 8-byte aligned.
    /// </summary>
    public static byte[] SafetensorsHeader(IEnumerable<(string Name, ScalarType Type, long[] Shape)> arrays, IReadOnlyDictionary<string, string> metadata)
    {
        var header = new Dictionary<string, object>();
        long offset = 0;
        foreach (var (name, type, shape) in arrays)
        {
            string dtype = SafetensorsTypes.FirstOrDefault(t => t.Value == type).Key ?? throw new NotSupportedException($"{name}: {type} is not written to safetensors");
            long bytes = shape.Aggregate(1L, (a, b) => a * b) * ElementSize(type);
            header[name] = new { dtype, shape, data_offsets = new[] { offset, offset + bytes } };
            offset += bytes;
        }
        header["__metadata__"] = metadata;
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(header);
        int padded = (json.Length + 7) / 8 * 8;
        return [.. BitConverter.GetBytes((ulong)padded), .. json, .. Enumerable.Repeat((byte)' ', padded - json.Length)];
    }

    // ---- npz ----

    [GeneratedRegex(@"'descr'\s*:\s*'(?<descr>[^']*)'.*'fortran_order'\s*:\s*(?<fortran>True|False).*'shape'\s*:\s*\((?<shape>[^)]*)\)", RegexOptions.Singleline)]
    private static partial Regex NpyHeader();

    static readonly Dictionary<string, ScalarType> NumpyTypes = new()
    {
        ["|u1"] = ScalarType.Byte, ["|i1"] = ScalarType.Int8, ["<i2"] = ScalarType.Int16, ["<i4"] = ScalarType.Int32, ["<i8"] = ScalarType.Int64,
        ["<f2"] = ScalarType.Float16, ["<f4"] = ScalarType.Float32, ["<f8"] = ScalarType.Float64, ["|b1"] = ScalarType.Bool,
    };

    static TensorFile OpenNpz(string path)
    {
        ZipArchive zip;
        try { zip = ZipFile.OpenRead(path); }
        catch (InvalidDataException e) { throw Corrupt(path, $"it is not a zip archive, as an .npz is ({e.Message})"); }
        using var _ = zip;
        var entries = new Dictionary<string, Entry>();
        var text = new Dictionary<string, string>();
        foreach (var item in zip.Entries.Where(e => e.FullName.EndsWith(".npy", StringComparison.Ordinal)))
        {
            string name = item.FullName[..^4];
            try
            {
                using var stream = item.Open();
                var (descr, shape, dataOffset) = ReadNpyHeader(path, name, stream);
                long dataLength = item.Length - dataOffset;
                if (descr.StartsWith("<U", StringComparison.Ordinal) && int.TryParse(descr[2..], out int width))
                {
                    text[name] = ReadStrings(path, name, stream, shape, width, dataLength);
                    continue;
                }
                if (!NumpyTypes.TryGetValue(descr, out var type))
                    throw Corrupt(path, $"array '{name}' has dtype '{descr}', which this tool does not read (little-endian uint8, int8..int64, float16..float64; strings for classes)");
                var entry = new Entry(name, type, shape, dataOffset, item.FullName);
                long bytes = Bytes(path, entry);
                if (bytes != dataLength)
                    throw Corrupt(path, $"array {entry.Describe()} needs {bytes:N0} bytes, but its .npy holds {dataLength:N0}: the file is truncated or its header is wrong");
                entries[name] = entry;
            }
            catch (InvalidDataException e) { throw Corrupt(path, $"'{item.FullName}' cannot be read ({e.Message}): the archive is damaged"); }
        }
        return new TensorFile(path, entries, text);
    }

    static (string Descr, long[] Shape, long DataOffset) ReadNpyHeader(string path, string name, Stream stream)
    {
        var magic = new byte[8];
        if (stream.ReadAtLeast(magic, 8, throwOnEndOfStream: false) < 8 || magic[0] != 0x93 || Encoding.ASCII.GetString(magic, 1, 5) != "NUMPY")
            throw Corrupt(path, $"'{name}.npy' does not start as a .npy file does");
        int sizeBytes = magic[6] == 1 ? 2 : 4;
        var size = new byte[4];
        stream.ReadExactly(size, 0, sizeBytes);
        long headerLength = sizeBytes == 2 ? BitConverter.ToUInt16(size) : BitConverter.ToUInt32(size);
        if (headerLength > MaxHeaderBytes) throw Corrupt(path, $"'{name}.npy' claims a {headerLength}-byte header");
        var header = new byte[headerLength];
        stream.ReadExactly(header);
        var match = NpyHeader().Match(Encoding.Latin1.GetString(header));
        if (!match.Success) throw Corrupt(path, $"'{name}.npy' has a header this tool cannot read: {Encoding.Latin1.GetString(header).Trim()}");
        if (match.Groups["fortran"].Value == "True")
            throw new UserInputException($"{path}: array '{name}' is stored in Fortran order; save numpy.ascontiguousarray(...) of it instead.");
        var shape = match.Groups["shape"].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(d => long.TryParse(d.TrimEnd('L'), NumberStyles.None, CultureInfo.InvariantCulture, out long v) ? v : throw Corrupt(path, $"'{name}.npy' has shape ({match.Groups["shape"].Value})"))
            .ToArray();
        return (match.Groups["descr"].Value, shape, 6 + 2 + sizeBytes + headerLength);
    }

    /// <summary>An array of fixed-width UTF-32 strings (numpy's &lt;U), one per line: class names.</summary>
    static string ReadStrings(string path, string name, Stream stream, long[] shape, int width, long dataLength)
    {
        long count = shape.Aggregate(1L, (a, b) => a * b);
        if (count * width * 4 != dataLength || dataLength > MaxHeaderBytes)
            throw Corrupt(path, $"string array '{name}' [{string.Join(", ", shape)}] does not fit its {dataLength} bytes");
        var bytes = new byte[dataLength];
        stream.ReadExactly(bytes);
        return string.Join('\n', Enumerable.Range(0, (int)count).Select(i => Encoding.UTF32.GetString(bytes, i * width * 4, width * 4).TrimEnd('\0')));
    }

    // ---- shared ----

    /// <summary>The bytes an entry's shape claims, refused when negative or beyond what any file here could hold (overflow included).</summary>
    static long Bytes(string path, Entry entry)
    {
        if (entry.Shape.Any(d => d < 0)) throw Corrupt(path, $"array {entry.Describe()} has a negative dimension");
        try { return checked(entry.Shape.Aggregate(1L, (a, b) => checked(a * b)) * ElementSize(entry.Type)); }
        catch (OverflowException) { throw Corrupt(path, $"array {entry.Describe()} claims more than 2^63 bytes"); }
    }

    static long ElementSize(ScalarType type) => type switch
    {
        ScalarType.Byte or ScalarType.Int8 or ScalarType.Bool => 1,
        ScalarType.Int16 or ScalarType.Float16 => 2,
        ScalarType.Int32 or ScalarType.Float32 => 4,
        _ => 8,
    };

    public static string TypeName(ScalarType type) => type switch
    {
        ScalarType.Byte => "uint8", ScalarType.Int8 => "int8", ScalarType.Int16 => "int16", ScalarType.Int32 => "int32", ScalarType.Int64 => "int64",
        ScalarType.Float16 => "float16", ScalarType.Float32 => "float32", ScalarType.Float64 => "float64", ScalarType.Bool => "bool", var t => t.ToString(),
    };

    static UserInputException Corrupt(string path, string what) => new($"{path} is not a readable tensor file: {what}.");
}
