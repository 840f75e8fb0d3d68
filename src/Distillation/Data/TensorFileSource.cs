using static TorchSharp.torch;

namespace Orchestrator.Distillation.Data;

/// <summary>
/// A dataset of the user's own tensor files: <c>dataset: { train: train.safetensors, test: test.npz }</c>, each holding
/// <c>images</c> (uint8 0..255 or float32 0..1; [N, H, W], [N, H, W, C] or [N, C, H, W]) and <c>labels</c> (integers
/// [N]), and optionally the class names (<c>classes</c>: an .npz string array, or safetensors metadata, a JSON list).
/// Every header is checked when the trial is read and again when the files are loaded (docs/datasets.md).
/// </summary>
public sealed class TensorFileSource : DatasetSource
{
    public const string Images = "images", LabelsName = "labels", ClassesName = "classes";
    readonly DataOptions options;
    readonly Lazy<Shape> shape;

    public TensorFileSource(DataOptions options)
    {
        this.options = options;
        shape = new Lazy<Shape>(() => Known(options));
    }

    /// <summary>Each pair of files' shape, read once per version of the files in a process: a sweep reads its dataset section at every point.</summary>
    static readonly System.Collections.Concurrent.ConcurrentDictionary<(string, string, string?, DateTime, long, DateTime, long), Shape> Shapes = new();

    static Shape Known(DataOptions options)
    {
        FileInfo train = new(options.Train!), test = new(options.Test!);
        if (!train.Exists || !test.Exists) return Read(options); // says which is missing
        return Shapes.GetOrAdd((train.FullName, test.FullName, options.Layout, train.LastWriteTimeUtc, train.Length, test.LastWriteTimeUtc, test.Length), _ => Read(options));
    }

    /// <summary>What both files say about the dataset, checked against each other.</summary>
    sealed record Shape(int TrainSamples, int TestSamples, int Channels, int Height, int Width, int Classes, IReadOnlyList<string>? ClassNames);

    public override string Name => options.Name;
    public override int ListOrder => int.MaxValue;
    public override int Classes => shape.Value.Classes;
    public override int TrainSamples => shape.Value.TrainSamples;
    public override int DefaultValidation => Math.Max(1, TrainSamples / 10);
    public override int ImageSide => Math.Min(shape.Value.Height, shape.Value.Width);
    public override int Channels => shape.Value.Channels;
    public override DatasetInfo Info => new(Name, Channels, shape.Value.Height, shape.Value.Width, Classes);
    public override IReadOnlyList<string> Files => [options.Train!, options.Test!];
    public override string InstallHint => "dataset.train and dataset.test name the files, relative to the file that names them.";

    public override string? Missing(DataOptions _) =>
        Files.FirstOrDefault(f => !File.Exists(f)) is { } missing ? $"dataset file {missing} does not exist. {InstallHint}" : null;

    public override Samples ReadTrain(string directory)
    {
        Unchanged($"{options.Train} or {options.Test}", options.Sha256, ContentSha256(options.Train!, options.Test!));
        return new FileSamples(TensorFile.Open(options.Train!), options.Layout, Classes);
    }

    /// <summary>What names the two files' contents in a trial's identity.</summary>
    public static string ContentSha256(string train, string test) => ContentHash.Of(FileDigest.Sha256(train) + FileDigest.Sha256(test));
    public override Samples ReadTest(string directory) => new FileSamples(TensorFile.Open(options.Test!), options.Layout, Classes);

    /// <summary>The name a tensor-file dataset goes by in messages and results: its training file's name without extension.</summary>
    public static string NameOf(string trainPath) => Path.GetFileNameWithoutExtension(trainPath);

    static Shape Read(DataOptions options)
    {
        var train = TensorFile.Open(options.Train!);
        var test = TensorFile.Open(options.Test!);
        var (n, c, h, w) = FileSamples.ImageShape(train, options.Layout);
        var (testN, testC, testH, testW) = FileSamples.ImageShape(test, options.Layout);
        if ((c, h, w) != (testC, testH, testW))
            throw new UserInputException($"{test.Path} holds {testC}x{testH}x{testW} images, {train.Path} {c}x{h}x{w}; a dataset's train and test images must have one shape.");
        FileSamples.CheckMemory(train.Path, (long)n * c * h * w);
        FileSamples.CheckMemory(test.Path, (long)testN * c * h * w);
        var names = ClassNames(train) ?? ClassNames(test);
        int classes = names?.Count ?? (int)Math.Max(MaxLabel(train), MaxLabel(test)) + 1;
        if (classes < 2) throw new UserInputException($"{train.Path}: every label is {classes - 1}; a classifier needs at least two classes.");
        return new Shape(n, testN, c, h, w, classes, names);
    }

    static IReadOnlyList<string>? ClassNames(TensorFile file)
    {
        if (!file.Text.TryGetValue(ClassesName, out var text)) return null;
        if (file.Path.EndsWith(".npz", StringComparison.OrdinalIgnoreCase)) return text.Split('\n');
        try { return System.Text.Json.JsonSerializer.Deserialize<List<string>>(text) ?? throw new System.Text.Json.JsonException("null"); }
        catch (System.Text.Json.JsonException) { throw new UserInputException($"{file.Path}: metadata 'classes' must be a JSON list of names, e.g. [\"cat\", \"dog\"]; it is {text}."); }
    }

    static long MaxLabel(TensorFile file)
    {
        using var labels = FileSamples.ReadLabels(file, FileSamples.ImageShape(file, null).Samples);
        return labels.shape[0] == 0 ? 0 : labels.max().item<long>();
    }
}

/// <summary>One tensor file's samples: labels read whole, images a chunk at a time, in NCHW whatever the stored layout.</summary>
sealed class FileSamples : Samples
{
    readonly TensorFile.Entry images;
    readonly TensorFile.EntryReader reader;
    readonly bool channelsLast;

    public FileSamples(TensorFile file, string? layout, int classes)
    {
        images = file.Require(TensorFileSource.Images);
        (int n, Channels, Height, Width) = ImageShape(file, layout);
        channelsLast = images.Shape.Length == 4 && ChannelsLast(file, images, layout);
        CheckMemory(file.Path, (long)n * Channels * Height * Width);
        Labels = ReadLabels(file, n);
        CheckLabels(file.Path, classes);
        reader = file.Reader(images);
    }

    public override Tensor Labels { get; }
    public override int Channels { get; }
    public override int Height { get; }
    public override int Width { get; }

    protected override Tensor ReadPixels(long start, long count)
    {
        var pixels = reader.Read(start, count);
        if (images.Shape.Length == 3) return pixels.unsqueeze(1);
        return channelsLast ? pixels.permute(0, 3, 1, 2).contiguous() : pixels;
    }

    /// <summary>The images' samples, channels, height and width, with their type and layout checked.</summary>
    public static (int Samples, int Channels, int Height, int Width) ImageShape(TensorFile file, string? layout)
    {
        var entry = file.Require(TensorFileSource.Images);
        if (entry.Type is not (ScalarType.Byte or ScalarType.Float32))
            throw new UserInputException($"{file.Path}: images are {TensorFile.TypeName(entry.Type)}; store them as uint8 (0..255) or float32 (0..1), e.g. images.astype(numpy.uint8).");
        long[] s = entry.Shape;
        if (s.Length is not (3 or 4))
            throw new UserInputException($"{file.Path}: images {entry.Describe()} must be [N, H, W], [N, H, W, C] or [N, C, H, W].");
        if (s[0] == 0) throw new UserInputException($"{file.Path}: images {entry.Describe()} holds no samples.");
        if (s.Skip(1).Any(d => d == 0 || d > 65_536)) throw new UserInputException($"{file.Path}: images {entry.Describe()} has an empty or absurd dimension.");
        if (s[0] > int.MaxValue) throw new UserInputException($"{file.Path}: images {entry.Describe()} holds more than {int.MaxValue:N0} samples.");
        if (s.Length == 3) return ((int)s[0], 1, (int)s[1], (int)s[2]);
        return ChannelsLast(file, entry, layout) ? ((int)s[0], (int)s[3], (int)s[1], (int)s[2]) : ((int)s[0], (int)s[1], (int)s[2], (int)s[3]);
    }

    /// <summary>NHWC or NCHW: as dataset.layout states, else as the shape shows (channels are 1, 3 or 4, and only one end has such a size).</summary>
    static bool ChannelsLast(TensorFile file, TensorFile.Entry entry, string? layout)
    {
        if (layout is not null) return layout == "NHWC";
        bool first = entry.Shape[1] is 1 or 3 or 4, last = entry.Shape[3] is 1 or 3 or 4;
        if (first != last) return last;
        throw new UserInputException($"{file.Path}: images {entry.Describe()} could be [N, C, H, W] or [N, H, W, C]; " +
                                     "say which with layout: NCHW or layout: NHWC in the dataset section.");
    }

    public override void Dispose()
    {
        reader.Dispose();
        base.Dispose();
    }

    public static Tensor ReadLabels(TensorFile file, int samples)
    {
        var entry = file.Require(TensorFileSource.LabelsName);
        if (entry.Type is not (ScalarType.Byte or ScalarType.Int8 or ScalarType.Int16 or ScalarType.Int32 or ScalarType.Int64))
            throw new UserInputException($"{file.Path}: labels are {TensorFile.TypeName(entry.Type)}; store them as integers (class indices 0..classes-1), e.g. labels.astype(numpy.int64).");
        if (entry.Shape.Length != 1)
            throw new UserInputException($"{file.Path}: labels {entry.Describe()} must be one class index per sample, [N].");
        if (entry.Shape[0] != samples)
            throw new UserInputException($"{file.Path}: {samples:N0} images but {entry.Shape[0]:N0} labels; each image needs exactly one label.");
        using var raw = file.ReadAll(entry);
        return raw.to_type(ScalarType.Int64);
    }

    /// <summary>
    /// Refuses a dataset whose float32 images would not fit in the memory this process may use (its cgroup's limit, or
    /// the machine's), saying how large it is and what to do, before anything is allocated for it.
    /// </summary>
    public static void CheckMemory(string path, long elements)
    {
        long bytes = elements * sizeof(float);
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (bytes > available / 2)
            throw new UserInputException($"{path}: its images take {bytes / 1e9:N1} GB as float32 tensors, more than half of the {available / 1e9:N1} GB this machine can give a process; " +
                                         "use a subset or smaller images (e.g. resize to 32x32), or run on a node with more memory.");
    }

}
