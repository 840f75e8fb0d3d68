using Orchestrator.Distillation.Data;
using Orchestrator.Tests;
using Shouldly;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Tests;

/// <summary>No CIFAR-10 copy is reachable here, so these tests write small files in the exact binary-version format.</summary>
public class Cifar10Tests
{
    const int Record = 3073;

    /// <summary>Record r: label r % 10; red plane all r, green plane all 100 + r, blue plane the pixel index % 256.</summary>
    static byte[] Batch(int records, int firstRecord = 0)
    {
        var bytes = new byte[records * Record];
        for (int r = 0; r < records; r++)
        {
            int at = r * Record, id = firstRecord + r;
            bytes[at] = (byte)(id % 10);
            for (int p = 0; p < 1024; p++)
            {
                bytes[at + 1 + p] = (byte)id;
                bytes[at + 1 + 1024 + p] = (byte)(100 + id);
                bytes[at + 1 + 2048 + p] = (byte)(p % 256);
            }
        }
        return bytes;
    }

    static string WriteDataset(Action<string>? tamper = null)
    {
        string root = TestData.TemporaryDirectory();
        string directory = Directory.CreateDirectory(Path.Combine(root, "cifar10")).FullName;
        for (int b = 1; b <= 5; b++) File.WriteAllBytes(Path.Combine(directory, $"data_batch_{b}.bin"), Batch(4, firstRecord: (b - 1) * 4));
        File.WriteAllBytes(Path.Combine(directory, "test_batch.bin"), Batch(6));
        tamper?.Invoke(directory);
        return root;
    }

    [Fact]
    public void Binary_batches_decode_to_channel_planes_and_labels()
    {
        var raw = new Cifar10Source().ReadTrain(Path.Combine(WriteDataset(), "cifar10"));
        raw.Count.ShouldBe(20);
        (raw.Channels, raw.Height, raw.Width).ShouldBe((3, 32, 32));
        using var set = raw.ToTensors();
        set.Labels.data<long>().ToArray().ShouldBe(Enumerable.Range(0, 20).Select(i => (long)(i % 10)));
        // Sample 13: red = 13/255, green = 113/255, blue at row 1, column 3 = (32 + 3)/255.
        set.Images[13, 0, 5, 5].item<float>().ShouldBe(13 / 255f, tolerance: 1e-6);
        set.Images[13, 1, 0, 0].item<float>().ShouldBe(113 / 255f, tolerance: 1e-6);
        set.Images[13, 2, 1, 3].item<float>().ShouldBe(35 / 255f, tolerance: 1e-6);
    }

    [Fact]
    public void Cifar10_loads_through_the_registry_with_a_split()
    {
        using var data = DistillationData.Load(new DataOptions("cifar10", WriteDataset(), Validation: 5), CPU);
        data.Info.ShouldBe(new DatasetInfo("cifar10", 3, 32, 32, 10));
        data.Train.Count.ShouldBe(15);
        data.Test.Count.ShouldBe(6);
    }

    [Fact]
    public void Truncated_batch_file_is_reported()
    {
        string root = WriteDataset(d => File.WriteAllBytes(Path.Combine(d, "data_batch_3.bin"), Batch(2)[..(Record + 100)]));
        Should.Throw<UserInputException>(() => DistillationData.Load(new DataOptions("cifar10", root, Validation: 5), CPU))
            .Message.ShouldContain("data_batch_3.bin: 3173 bytes is not a whole number of 3073-byte CIFAR-10 records");
    }

    [Fact]
    public void Label_out_of_range_is_reported()
    {
        string root = WriteDataset(d =>
        {
            var bytes = Batch(3);
            bytes[2 * Record] = 10;
            File.WriteAllBytes(Path.Combine(d, "test_batch.bin"), bytes);
        });
        Should.Throw<UserInputException>(() => DistillationData.Load(new DataOptions("cifar10", root, Validation: 5), CPU))
            .Message.ShouldContain("label 10 of record 2 is outside 0..9");
    }
}
