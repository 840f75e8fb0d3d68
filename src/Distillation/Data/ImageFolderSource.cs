using System.Text.Json;
using SkiaSharp;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Data;

/// <summary>
/// A dataset of image files, one sub-folder per class: <c>dataset: { images: photos/, size: 64 }</c>. The folder holds
/// train/ and test/ (each with the class folders), or the class folders themselves, in which case every fifth image of
/// each class in name order is the test set. PNG, JPEG and WebP are decoded with SkiaSharp and resized to size x size
/// RGB, once: the result is a safetensors file in a cache keyed by the folder's content hash and the size, which every
/// later trial reads as a <see cref="TensorFileSource"/> does.
/// </summary>
public sealed class ImageFolderSource : DatasetSource
{
    public static readonly string[] Extensions = [".png", ".jpg", ".jpeg", ".webp"];
    /// <summary>The largest side images are resized to: 512 x 512 RGB is already 3 MB a sample as float32.</summary>
    public const int MaxSize = 512;
    const int TestEvery = 5;

    readonly DataOptions options;
    readonly Lazy<Layout> layout;

    public ImageFolderSource(DataOptions options)
    {
        this.options = options;
        layout = new Lazy<Layout>(() => Scan(options.Images!));
    }

    /// <summary>The classes (folder names, sorted) and each split's files with their class index.</summary>
    sealed record Layout(IReadOnlyList<string> Classes, IReadOnlyList<(string Path, int Label)> Train, IReadOnlyList<(string Path, int Label)> Test);

    int Size => options.Size ?? throw new InvalidOperationException("an image folder's size is read with its folder");
    public override string Name => options.Name;
    public override int ListOrder => int.MaxValue;
    public override int Classes => layout.Value.Classes.Count;
    public override int TrainSamples => layout.Value.Train.Count;
    public override int DefaultValidation => Math.Max(1, TrainSamples / 10);
    public override int ImageSide => Size;
    public override int Channels => 3;
    public override IReadOnlyList<string> Files => [];
    public override string InstallHint => "dataset.images names a folder of class folders (or of train/ and test/, each of class folders), relative to the file that names it.";

    public override string? Missing(DataOptions _) => Directory.Exists(options.Images) ? null : $"image folder {options.Images} does not exist. {InstallHint}";

    public override Samples ReadTrain(string directory) => new FileSamples(TensorFile.Open(Cached("train")), null, Classes);
    public override Samples ReadTest(string directory) => new FileSamples(TensorFile.Open(Cached("test")), null, Classes);

    /// <summary>The folder's name, what the dataset goes by in messages and results.</summary>
    public static string NameOf(string folder) => Path.GetFileName(Path.TrimEndingDirectorySeparator(folder));

    /// <summary>What names the folder's contents in a trial's identity and its cache: every image's place and bytes.</summary>
    public string ContentSha256()
    {
        var all = layout.Value.Train.Concat(layout.Value.Test).Select(f => Path.GetRelativePath(options.Images!, f.Path) + ":" + FileDigest.Sha256(f.Path));
        return ContentHash.Of(string.Join("\n", all));
    }

    /// <summary>Where the decoded split lives: $ORCHESTRATOR_CACHE_DIR, else $XDG_CACHE_HOME/orchestrator, else ~/.cache/orchestrator.</summary>
    public static string CacheRoot() =>
        Environment.GetEnvironmentVariable("ORCHESTRATOR_CACHE_DIR") is { Length: > 0 } set ? set
        : Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "orchestrator");

    /// <summary>The split's cached tensor file, decoded and written first when it is not there.</summary>
    string Cached(string split)
    {
        string sha = Unchanged(options.Images!, options.Sha256, ContentSha256());
        string path = Path.Combine(CacheRoot(), "images", $"{sha}-{Size}", split + ".safetensors");
        if (!File.Exists(path)) Decode(split == "train" ? layout.Value.Train : layout.Value.Test, path);
        return path;
    }

    /// <summary>Decodes every image, resized to size x size RGB, straight into a new safetensors file (written whole, then renamed).</summary>
    void Decode(IReadOnlyList<(string Path, int Label)> files, string path)
    {
        int side = Size, pixels = 3 * side * side;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var header = TensorFile.SafetensorsHeader(
            [(TensorFileSource.Images, ScalarType.Byte, [files.Count, 3, side, side]), (TensorFileSource.LabelsName, ScalarType.Int64, [files.Count])],
            new Dictionary<string, string> { [TensorFileSource.ClassesName] = JsonSerializer.Serialize(layout.Value.Classes) });
        var planes = new byte[pixels];
        AtomicFile.Write(path, stream =>
        {
            stream.Write(header);
            foreach (var (file, _) in files)
            {
                Resized(file, side, planes);
                stream.Write(planes);
            }
            foreach (var (_, label) in files) stream.Write(BitConverter.GetBytes((long)label));
        });
    }

    /// <summary>One image as 3 planes of side x side bytes (red, green, blue), stretched to the square.</summary>
    static void Resized(string file, int side, byte[] planes)
    {
        using var decoded = SKBitmap.Decode(file)
            ?? throw new UserInputException($"{file} cannot be decoded as an image (PNG, JPEG or WebP); remove it or replace it with a readable copy.");
        using var resized = decoded.Resize(new SKImageInfo(side, side, SKColorType.Rgba8888, SKAlphaType.Unpremul), new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear))
            ?? throw new UserInputException($"{file} cannot be resized to {side}x{side}.");
        var rgba = resized.GetPixelSpan();
        int area = side * side;
        for (int i = 0; i < area; i++)
            (planes[i], planes[area + i], planes[2 * area + i]) = (rgba[4 * i], rgba[4 * i + 1], rgba[4 * i + 2]);
    }

    static Layout Scan(string folder)
    {
        if (!Directory.Exists(folder)) throw new MissingDatasetException($"image folder {folder} does not exist.");
        string train = Path.Combine(folder, "train"), test = Path.Combine(folder, "test");
        if (Directory.Exists(train) && Directory.Exists(test))
        {
            var classes = ClassFolders(train);
            var testClasses = ClassFolders(test);
            if (!testClasses.SequenceEqual(classes))
                throw new UserInputException($"{test} has classes {string.Join(", ", testClasses)}, {train} has {string.Join(", ", classes)}; both need the same class folders.");
            return new Layout(classes, Images(train, classes).SelectMany(c => c).ToList(), Images(test, classes).SelectMany(c => c).ToList());
        }
        var names = ClassFolders(folder);
        var perClass = Images(folder, names);
        return new Layout(names,
            perClass.SelectMany(c => c.Where((_, i) => i % TestEvery != TestEvery - 1)).ToList(),
            perClass.SelectMany(c => c.Where((_, i) => i % TestEvery == TestEvery - 1)).ToList());
    }

    static List<string> ClassFolders(string folder)
    {
        var classes = Directory.GetDirectories(folder).Select(NameOf).Where(n => !n.StartsWith('.')).Order(StringComparer.Ordinal).ToList();
        if (classes.Count < 2)
            throw new UserInputException($"{folder} holds {classes.Count} class folder(s); a classifier needs at least two (one sub-folder of images per class).");
        return classes;
    }

    /// <summary>Each class's image files in name order, labelled by the class's index; an empty class folder is refused.</summary>
    static List<List<(string Path, int Label)>> Images(string folder, IReadOnlyList<string> classes) => classes.Select((name, label) =>
    {
        var files = Directory.GetFiles(Path.Combine(folder, name))
            .Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
            .Order(StringComparer.Ordinal).Select(f => (f, label)).ToList();
        if (files.Count == 0)
            throw new UserInputException($"class folder {Path.Combine(folder, name)} holds no images ({string.Join(", ", Extensions)}); add some or remove the folder.");
        return files;
    }).ToList();
}
