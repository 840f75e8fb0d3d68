using System.Text;
using System.Text.Json;
using Orchestrator.Distillation.Configuration;
using Orchestrator.Distillation.Data;
using Orchestrator.Tests;
using Shouldly;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Tests;

/// <summary>
/// Datasets from the user's own tensor files: what a Python script writes (NumPy .npz, safetensors) loads as the same
/// samples as the built-in reader gives, and every hostile file is refused with a message naming it and what is wrong.
/// </summary>
public sealed class TensorFileTests
{
    const int Train = 600, Test = 100, Validation = 100;
    readonly string fashion = TestData.FashionMnistSubset(train: Train, test: Test);

    /// <summary>Runs python/write_tensor_dataset.py on the subset; returns the folder it wrote.</summary>
    string PythonWritten()
    {
        string folder = TestData.TemporaryDirectory();
        PyTorch.Run("tests/Distillation.Tests/python/write_tensor_dataset.py", fashion, folder);
        return folder;
    }

    /// <summary>A trial file beside the data naming <paramref name="dataset"/> as its dataset section.</summary>
    static string Trial(string folder, string dataset)
    {
        string path = Path.Combine(folder, "trial.yaml");
        File.WriteAllText(path, $"dataset: {dataset}\nmodel: mlp-400\nepochs: 1\n");
        return path;
    }

    [Fact]
    public void Npz_and_safetensors_written_by_numpy_load_as_the_same_samples_as_the_built_in_reader()
    {
        string folder = PythonWritten();
        var config = TrialConfig.Load(Trial(folder, $"{{ train: train.npz, test: test.safetensors, validation: {Validation} }}"));
        config.Data.Train.ShouldBe(Path.Combine(folder, "train.npz"));
        config.Data.Sha256.ShouldNotBeNull();
        using var ours = DistillationData.Load(config.Data, CPU);
        using var builtIn = DistillationData.Load(new DataOptions("fashion-mnist", fashion, Validation), CPU);

        ours.Info.ShouldBe(new DatasetInfo("train", 1, 28, 28, 10));
        foreach (var (mine, theirs) in new[] { (ours.Train, builtIn.Train), (ours.Validation, builtIn.Validation), (ours.Test, builtIn.Test) })
        {
            mine.Images.allclose(theirs.Images, rtol: 0, atol: 0).ShouldBeTrue();
            mine.Labels.allclose(theirs.Labels, rtol: 0, atol: 0).ShouldBeTrue();
        }
        ours.Normalisation.Mean.ShouldBe(builtIn.Normalisation.Mean);
    }

    [Fact]
    public void A_tensor_files_reader_reads_chunks_in_order_on_one_stream_and_reopens_for_any_other()
    {
        string folder = PythonWritten();
        foreach (string name in new[] { "train.npz", "test.safetensors" }) // deflated .npz entries, and plain byte ranges
        {
            var file = TensorFile.Open(Path.Combine(folder, name));
            var images = file.Require(TensorFileSource.Images);
            using var whole = file.Reader(images).Read(0, images.Shape[0]);
            using var reader = file.Reader(images);
            using var first = reader.Read(0, 7);
            using var next = reader.Read(7, 5);      // where the last read ended: the same stream
            using var earlier = reader.Read(3, 2);   // anywhere else: reopened
            first.allclose(whole.narrow(0, 0, 7), rtol: 0, atol: 0).ShouldBeTrue(name);
            next.allclose(whole.narrow(0, 7, 5), rtol: 0, atol: 0).ShouldBeTrue(name);
            earlier.allclose(whole.narrow(0, 3, 2), rtol: 0, atol: 0).ShouldBeTrue(name);
            using var labels = file.ReadAll(file.Require(TensorFileSource.LabelsName));
            labels.shape.ShouldBe([name == "train.npz" ? Train : Test]);
        }
    }

    [Fact]
    public void Channels_last_images_are_read_as_channels_first()
    {
        string folder = PythonWritten();
        var config = TrialConfig.Load(Trial(folder, $"{{ train: train-nhwc.npz, test: train-nhwc.npz, validation: {Validation} }}"));
        using var data = DistillationData.Load(config.Data, CPU);
        using var builtIn = DistillationData.Load(new DataOptions("fashion-mnist", fashion, Validation), CPU);
        data.Info.Channels.ShouldBe(3);
        data.Info.Classes.ShouldBe(10); // no names: the largest label + 1
        // Each of the three channels is the grey image; normalised per channel, each equals the built-in's.
        for (int c = 0; c < 3; c++)
            data.Train.Images.narrow(1, c, 1).allclose(builtIn.Train.Images, rtol: 1e-5, atol: 1e-5).ShouldBeTrue($"channel {c}");
    }

    [Fact]
    public void A_changed_file_is_a_new_identity_and_a_trial_read_before_the_change_is_refused()
    {
        string folder = PythonWritten();
        string trial = Trial(folder, "{ train: test.safetensors, test: test.safetensors, validation: 10 }");
        var before = TrialConfig.Load(trial);
        TrialConfig.Load(trial).Hash().ShouldBe(before.Hash());

        using (var file = File.OpenWrite(Path.Combine(folder, "test.safetensors")))
        {
            file.Seek(-Test * sizeof(int) - 1, SeekOrigin.End); // the last image's last pixel
            file.WriteByte(0x3f);
        }
        TrialConfig.Load(trial).Hash().ShouldNotBe(before.Hash());
        Should.Throw<UserInputException>(() => DistillationData.Load(before.Data, CPU)).Message.ShouldContain("changed since this trial was read");
    }

    // ---- hostile files, written byte by byte ----

    sealed record Array(string Name, string Dtype, long[] Shape, byte[] Data);

    static byte[] Bytes<T>(T[] values) where T : struct => System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray();

    static Array Images(int n, int side = 8) => new("images", "U8", [n, side, side], Enumerable.Range(0, n * side * side).Select(i => (byte)(i * 7)).ToArray());
    static Array Labels(params long[] labels) => new("labels", "I64", [labels.Length], Bytes(labels));

    /// <summary>A safetensors file of these arrays; <paramref name="header"/> may rewrite the header's JSON before it is written.</summary>
    static byte[] Safetensors(IEnumerable<Array> arrays, Func<string, string>? header = null, Dictionary<string, string>? metadata = null)
    {
        var entries = new Dictionary<string, object>();
        long offset = 0;
        var data = new MemoryStream();
        foreach (var a in arrays)
        {
            entries[a.Name] = new { dtype = a.Dtype, shape = a.Shape, data_offsets = new[] { offset, offset + a.Data.Length } };
            offset += a.Data.Length;
            data.Write(a.Data);
        }
        if (metadata is not null) entries["__metadata__"] = metadata;
        string json = JsonSerializer.Serialize(entries);
        json = header?.Invoke(json) ?? json;
        var bytes = Encoding.UTF8.GetBytes(json);
        return [.. BitConverter.GetBytes((long)bytes.Length), .. bytes, .. data.ToArray()];
    }

    static readonly byte[] GoodTest = Safetensors([Images(4), Labels(0, 1, 2, 0)]);

    /// <summary>Reads a trial whose training file is <paramref name="train"/> (and a good test file); returns the error.</summary>
    static string Refusal(byte[] train, string extension = ".safetensors", string extra = "")
    {
        string folder = TestData.TemporaryDirectory();
        File.WriteAllBytes(Path.Combine(folder, "train" + extension), train);
        File.WriteAllBytes(Path.Combine(folder, "test.safetensors"), GoodTest);
        string trial = Trial(folder, $"{{ train: train{extension}, test: test.safetensors, validation: 1{extra} }}");
        var message = Should.Throw<UserInputException>(() =>
        {
            using var _ = DistillationData.Load(TrialConfig.Load(trial).Data, CPU);
        }).Message;
        message.ShouldContain(Path.Combine(folder, "train" + extension));
        return message;
    }

    [Fact]
    public void A_truncated_file_is_refused()
    {
        var good = Safetensors([Images(6), Labels(0, 1, 2, 0, 1, 2)]);
        Refusal(good[..^10]).ShouldContain("is truncated or its header is wrong");
        Refusal(good[..5]).ShouldContain("shorter than a safetensors header's 8-byte length");
    }

    [Fact]
    public void A_header_claiming_ten_to_the_twelve_elements_is_refused_before_anything_is_allocated()
    {
        long before = GC.GetTotalAllocatedBytes();
        var hostile = Safetensors([Images(6), Labels(0, 1, 2, 0, 1, 2)], json => json.Replace("\"shape\":[6,8,8]", "\"shape\":[1000000,1000,1000]"));
        Refusal(hostile).ShouldContain("'images' (uint8 [1000000, 1000, 1000]) needs 1,000,000,000,000 bytes");
        (GC.GetTotalAllocatedBytes() - before).ShouldBeLessThan(100L << 20);
    }

    [Fact]
    public void A_header_longer_than_the_file_or_not_json_is_refused()
    {
        var good = Safetensors([Images(6), Labels(0, 1, 2, 0, 1, 2)]);
        var lying = good.ToArray();
        BitConverter.GetBytes(1L << 40).CopyTo(lying, 0);
        Refusal(lying).ShouldContain("claim a 1099511627776-byte header");
        Refusal(Safetensors([Images(6), Labels(0, 1, 2, 0, 1, 2)], json => "{not json" + json[9..])).ShouldContain("its header is not JSON");
    }

    [Fact]
    public void Wrong_types_and_shapes_are_refused_with_what_to_store()
    {
        Refusal(Safetensors([new Array("images", "I16", [2, 4, 4], new byte[64]), Labels(0, 1)])).ShouldContain("images are int16; store them as uint8 (0..255) or float32 (0..1)");
        Refusal(Safetensors([Images(2), new Array("labels", "F32", [2], new byte[8])])).ShouldContain("labels are float32; store them as integers");
        Refusal(Safetensors([Images(3), Labels(0, 1)])).ShouldContain("3 images but 2 labels");
        Refusal(Safetensors([Images(0), Labels()])).ShouldContain("holds no samples");
        Refusal(Safetensors([Images(2)])).ShouldContain("has no array 'labels'; it holds 'images' (uint8 [2, 8, 8])");
        Refusal(Safetensors([new Array("images", "U8", [2, 3, 8, 3], new byte[144]), Labels(0, 1)])).ShouldContain("say which with layout: NCHW or layout: NHWC");
    }

    [Fact]
    public void A_label_outside_the_named_classes_is_refused_naming_the_sample()
    {
        var names = new Dictionary<string, string> { ["classes"] = "[\"cat\", \"dog\", \"bird\"]" };
        Refusal(Safetensors([Images(4), Labels(0, 1, 5, 2)], metadata: names)).ShouldContain("label 5 of sample 2 is outside 0..2");
    }

    [Fact]
    public void A_damaged_npz_is_refused()
    {
        Refusal(Encoding.ASCII.GetBytes("PK\u0003\u0004 not really a zip"), ".npz").ShouldContain("not a zip archive");
        // A stored .npy whose header claims more samples than its bytes hold.
        var npy = new MemoryStream();
        using (var zip = new System.IO.Compression.ZipArchive(npy, System.IO.Compression.ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, descr, shape, data) in new[] { ("images", "|u1", "(1000000, 8, 8)", new byte[128]), ("labels", "<i8", "(2,)", new byte[16]) })
            {
                using var stream = zip.CreateEntry(name + ".npy", System.IO.Compression.CompressionLevel.NoCompression).Open();
                string header = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}".PadRight(117) + "\n";
                stream.Write([0x93, .. Encoding.ASCII.GetBytes("NUMPY"), 1, 0, (byte)header.Length, 0, .. Encoding.ASCII.GetBytes(header), .. data]);
            }
        }
        Refusal(npy.ToArray(), ".npz").ShouldContain("needs 64,000,000 bytes, but its .npy holds 128");
    }

    [Fact]
    public void A_dataset_larger_than_the_memory_a_process_may_use_is_refused_saying_how_large()
    {
        // A sparse file: its header and byte ranges are consistent, and its 10^12 bytes of images take no disk.
        const long images = 1_000_000_000_000, samples = 1_000_000;
        var header = Safetensors([new Array("images", "U8", [samples, 1000, 1000], []), new Array("labels", "I64", [samples], [])],
            json => json.Replace("[1000000,1000,1000],\"data_offsets\":[0,0]", $"[1000000,1000,1000],\"data_offsets\":[0,{images}]")
                        .Replace("\"labels\":{\"dtype\":\"I64\",\"shape\":[1000000],\"data_offsets\":[0,0]", $"\"labels\":{{\"dtype\":\"I64\",\"shape\":[1000000],\"data_offsets\":[{images},{images + 8 * samples}]"),
            metadata: new() { ["classes"] = "[\"no\", \"yes\"]" });
        string folder = TestData.TemporaryDirectory();
        using (var file = File.Create(Path.Combine(folder, "train.safetensors")))
        {
            file.Write(header);
            file.SetLength(header.Length + images + 8 * samples);
        }
        // Refused when the trial is read, before its files are hashed (which would read the 10^12 bytes).
        Should.Throw<UserInputException>(() => TrialConfig.Load(Trial(folder, "{ train: train.safetensors, test: train.safetensors, validation: 1 }"))).Message
            .ShouldContain("its images take 4,000.0 GB as float32 tensors, more than half of the");
    }
}
