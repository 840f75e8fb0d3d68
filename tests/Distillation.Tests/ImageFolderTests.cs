using Orchestrator.Distillation.Configuration;
using Orchestrator.Distillation.Data;
using Orchestrator.Distillation.Trials;
using Orchestrator.Tests;
using Shouldly;
using SkiaSharp;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Tests;

/// <summary>
/// Image-folder datasets: real Fashion-MNIST images written as PNG files in class folders (a few as JPEG and WebP)
/// decode to their pixels, train, and are cached by the folder's content, so the next trial reads the cache.
/// </summary>
public sealed class ImageFolderTests : IDisposable
{
    /// <summary>Three classes Fashion-MNIST tells apart easily: trouser (1), bag (8), sneaker (7).</summary>
    static readonly (int Label, string Name)[] Classes = [(1, "trouser"), (7, "sneaker"), (8, "bag")];
    const int PerClass = 100;

    readonly string cache = TestData.TemporaryDirectory();
    readonly RawImages fashion = (RawImages)DatasetRegistry.Get("fashion-mnist").ReadTrain(Path.Combine(TestData.FashionMnistSubset(train: 2000, test: 10), "fashion-mnist"));

    public ImageFolderTests() => Environment.SetEnvironmentVariable("ORCHESTRATOR_CACHE_DIR", cache);

    public void Dispose()
    {
        Environment.SetEnvironmentVariable("ORCHESTRATOR_CACHE_DIR", null);
        fashion.Dispose();
    }

    /// <summary>photos/&lt;class&gt;/NNN.png, the first <see cref="PerClass"/> images of each class; returns the folder and each file's original pixels.</summary>
    (string Folder, Dictionary<string, byte[]> Pixels) WritePhotos(SKEncodedImageFormat format = SKEncodedImageFormat.Png)
    {
        string folder = Path.Combine(TestData.TemporaryDirectory(), "photos");
        var pixels = new Dictionary<string, byte[]>();
        var labels = fashion.Labels.data<long>().ToArray();
        foreach (var (label, name) in Classes)
        {
            Directory.CreateDirectory(Path.Combine(folder, name));
            foreach (var (index, n) in labels.Select((l, i) => (l, i)).Where(p => p.l == label).Select(p => p.i).Take(PerClass).Select((i, n) => (i, n)))
            {
                byte[] grey = fashion.Pixels[index].data<byte>().ToArray();
                string path = Path.Combine(folder, name, $"{n:D3}.{format.ToString().ToLowerInvariant()}");
                Write(path, grey, format);
                pixels[path] = grey;
            }
        }
        return (folder, pixels);
    }

    static void Write(string path, byte[] grey, SKEncodedImageFormat format)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(28, 28, SKColorType.Gray8, SKAlphaType.Opaque));
        System.Runtime.InteropServices.Marshal.Copy(grey, 0, bitmap.GetPixels(), grey.Length);
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(format, 100);
        using var file = File.Create(path);
        data.SaveTo(file);
    }

    static string Trial(string folder, string dataset, string model = "mlp-64", int epochs = 1)
    {
        string path = Path.Combine(Path.GetDirectoryName(folder)!, "trial.yaml");
        File.WriteAllText(path, $"dataset: {dataset}\nmodel: {model}\nepochs: {epochs}\nbatch_size: 32\noptimizer: {{ name: adam, lr: 0.003 }}\ndevice: cpu\nseed: 1\n");
        return path;
    }

    [Fact]
    public void Pngs_in_class_folders_decode_to_their_pixels_every_fifth_one_held_out_for_test()
    {
        var (folder, pixels) = WritePhotos();
        var config = TrialConfig.Load(Trial(folder, "{ images: photos, size: 28, validation: 30 }"));
        var source = new ImageFolderSource(config.Data);
        (source.Classes, source.TrainSamples, source.Info).ShouldBe((3, 3 * PerClass * 4 / 5, new DatasetInfo("photos", 3, 28, 28, 3)));

        using var test = source.ReadTest("");
        test.Count.ShouldBe(3 * PerClass / 5);
        using var set = test.ToTensors();
        // Test sample 0 is the first class's (bag, sorted by name) fifth image, 004.png; each channel is its grey pixels.
        var expected = pixels[Path.Combine(folder, "bag", "004.png")];
        using var red = set.Images[0, 0].mul(255).round().to_type(ScalarType.Byte).flatten();
        red.data<byte>().ToArray().ShouldBe(expected);
        set.Images[0, 1].allclose(set.Images[0, 0]).ShouldBeTrue();
        set.Labels.data<long>().ToArray().ShouldBe(Enumerable.Range(0, 3).SelectMany(c => Enumerable.Repeat((long)c, PerClass / 5)));
    }

    [Fact]
    public void A_few_hundred_pngs_train_and_the_next_trial_reads_the_cache()
    {
        var (folder, _) = WritePhotos();
        string trial = Trial(folder, "{ images: photos, size: 28, validation: 30 }");
        var result = TrialRunner.Run(TrialConfig.Load(trial), TestData.TemporaryDirectory(), cancellation: TestContext.Current.CancellationToken);
        result.FailureReason.ShouldBeNull();
        result.TestAccuracy!.Value.ShouldBeGreaterThan(0.8); // trouser, sneaker and bag: far above a third
        var cached = Directory.GetFiles(cache, "*.safetensors", SearchOption.AllDirectories);
        cached.Select(Path.GetFileName).Order().ShouldBe(["test.safetensors", "train.safetensors"]);
        var written = cached.Select(File.GetLastWriteTimeUtc).ToList();

        // The next trial on the same folder reads the cache as it is; a changed image is a new folder, decoded anew.
        using (var again = DistillationData.Load(TrialConfig.Load(trial).Data, CPU))
            again.Train.Count.ShouldBe(240 - 30);
        cached.Select(File.GetLastWriteTimeUtc).ShouldBe(written);
        File.Copy(Path.Combine(folder, "bag", "000.png"), Path.Combine(folder, "bag", "001.png"), overwrite: true);
        using (var changed = DistillationData.Load(TrialConfig.Load(trial).Data, CPU)) changed.Train.Count.ShouldBe(210);
        Directory.GetFiles(cache, "*.safetensors", SearchOption.AllDirectories).Length.ShouldBe(4);
    }

    [Fact]
    public void Jpeg_and_webp_decode_and_images_are_resized()
    {
        var (folder, _) = WritePhotos(SKEncodedImageFormat.Jpeg);
        Write(Path.Combine(folder, "bag", "extra.webp"), new byte[28 * 28], SKEncodedImageFormat.Webp);
        var config = TrialConfig.Load(Trial(folder, "{ images: photos, size: 16, validation: 30 }"));
        using var data = DistillationData.Load(config.Data, CPU);
        data.Info.ShouldBe(new DatasetInfo("photos", 3, 16, 16, 3));
        (data.Train.Count + data.Validation.Count + data.Test.Count).ShouldBe(3 * PerClass + 1);
    }

    [Fact]
    public void An_empty_class_folder_one_class_and_an_unreadable_image_are_refused_by_name()
    {
        var (folder, _) = WritePhotos();
        Directory.CreateDirectory(Path.Combine(folder, "coat"));
        Should.Throw<UserInputException>(() => TrialConfig.Load(Trial(folder, "{ images: photos, size: 28 }"))).Message
            .ShouldContain($"class folder {Path.Combine(folder, "coat")} holds no images");
        Directory.Delete(Path.Combine(folder, "coat"));

        File.WriteAllText(Path.Combine(folder, "bag", "broken.png"), "not a png");
        var config = TrialConfig.Load(Trial(folder, "{ images: photos, size: 28, validation: 30 }"));
        Should.Throw<UserInputException>(() => DistillationData.Load(config.Data, CPU)).Message
            .ShouldContain($"{Path.Combine(folder, "bag", "broken.png")} cannot be decoded as an image");
        Directory.GetFiles(cache, "*.safetensors", SearchOption.AllDirectories).ShouldBeEmpty(); // nothing half-written

        string single = Path.Combine(TestData.TemporaryDirectory(), "photos");
        Directory.CreateDirectory(Path.Combine(single, "only"));
        Should.Throw<UserInputException>(() => TrialConfig.Load(Trial(single, "{ images: photos, size: 28 }"))).Message
            .ShouldContain("holds 1 class folder(s); a classifier needs at least two");
    }

    [Fact]
    public void A_full_disk_while_decoding_leaves_no_cache_and_the_next_load_decodes_again()
    {
        var (folder, _) = WritePhotos();
        string small = TestData.TemporaryDirectory();
        if (!Mount(small, "64k")) Assert.Skip("mounting a small tmpfs needs root");
        try
        {
            Environment.SetEnvironmentVariable("ORCHESTRATOR_CACHE_DIR", small);
            var config = TrialConfig.Load(Trial(folder, "{ images: photos, size: 28, validation: 30 }"));
            Should.Throw<IOException>(() => DistillationData.Load(config.Data, CPU)).Message.ShouldContain("No space left on device");
            Directory.GetFiles(small, "*", SearchOption.AllDirectories).ShouldBeEmpty(); // no cache, no temporary left behind

            Mount(small, "8m", remount: true); // space again
            using var data = DistillationData.Load(config.Data, CPU);
            data.Test.Count.ShouldBe(60);
        }
        finally
        {
            System.Diagnostics.Process.Start("umount", small)!.WaitForExit();
        }
    }

    static bool Mount(string at, string size, bool remount = false)
    {
        using var mount = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("mount",
            remount ? ["-o", $"remount,size={size}", at] : ["-t", "tmpfs", "-o", $"size={size}", "tmpfs", at]) { RedirectStandardError = true })!;
        mount.WaitForExit();
        return mount.ExitCode == 0;
    }
}
