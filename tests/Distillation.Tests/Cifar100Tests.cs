using Orchestrator.Distillation.Configuration;
using Orchestrator.Distillation.Data;
using Orchestrator.Tests;
using Shouldly;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Tests;

/// <summary>No CIFAR-100 copy is reachable here, so these tests write small files in the exact binary-version format.</summary>
public class Cifar100Tests
{
    const int Record = 3074;

    /// <summary>Record r: coarse label r % 20, fine label r % 100; red plane all r, green 100 + r, blue the pixel index % 256.</summary>
    static byte[] Records(int count)
    {
        var bytes = new byte[count * Record];
        for (int r = 0; r < count; r++)
        {
            int at = r * Record;
            (bytes[at], bytes[at + 1]) = ((byte)(r % 20), (byte)(r % 100));
            for (int p = 0; p < 1024; p++)
                (bytes[at + 2 + p], bytes[at + 2 + 1024 + p], bytes[at + 2 + 2048 + p]) = ((byte)r, (byte)(100 + r), (byte)(p % 256));
        }
        return bytes;
    }

    static string WriteDataset(byte[]? train = null)
    {
        string root = TestData.TemporaryDirectory();
        string directory = Directory.CreateDirectory(Path.Combine(root, "cifar100")).FullName;
        File.WriteAllBytes(Path.Combine(directory, "train.bin"), train ?? Records(120));
        File.WriteAllBytes(Path.Combine(directory, "test.bin"), Records(30));
        return root;
    }

    static TrialConfig Trial(string root, string label) =>
        TrialConfig.Load(TestData.WriteFile("trial.yaml", $"dataset: {{ name: cifar100, data_dir: {root}, validation: 20{label} }}\nmodel: resnet8\nepochs: 1\n"));

    [Fact]
    public void Fine_labels_are_the_default_and_coarse_ones_are_the_twenty_superclasses()
    {
        string root = WriteDataset();
        using var fine = DistillationData.Load(Trial(root, "").Data, CPU);
        fine.Info.ShouldBe(new DatasetInfo("cifar100", 3, 32, 32, 100));
        Trial(root, ", label: fine").Hash().ShouldBe(Trial(root, "").Hash()); // the default, said or not, is one trial

        var coarseConfig = Trial(root, ", label: coarse");
        coarseConfig.Hash().ShouldNotBe(Trial(root, "").Hash());
        using var coarse = DistillationData.Load(coarseConfig.Data, CPU);
        coarse.Info.Classes.ShouldBe(20);
        // The same samples in the same split, labelled by superclass: record r is fine r % 100 and coarse r % 20.
        fine.Test.Labels.remainder(20).allclose(coarse.Test.Labels, rtol: 0, atol: 0).ShouldBeTrue();
        using var red = fine.Test.Images[.., 0, 0, 0];
        red.allclose(coarse.Test.Images[.., 0, 0, 0]).ShouldBeTrue();
    }

    [Fact]
    public void Cifar100Source_decodes_records_to_channel_planes_and_fine_labels()
    {
        using var raw = new Cifar100Source().ReadTest(Path.Combine(WriteDataset(), "cifar100"));
        (raw.Count, raw.Channels, raw.Height, raw.Width).ShouldBe((30, 3, 32, 32));
        raw.Labels.data<long>().ToArray().ShouldBe(Enumerable.Range(0, 30).Select(r => (long)(r % 100)));
        using var record = raw.Pixels[29];
        (record[0, 5, 5].item<byte>(), record[1, 5, 5].item<byte>(), record[2, 0, 7].item<byte>()).ShouldBe(((byte)29, (byte)129, (byte)7));
    }

    [Fact]
    public void A_wrong_label_choice_and_a_truncated_file_say_what_is_wrong()
    {
        string root = WriteDataset();
        Should.Throw<UserInputException>(() => Trial(root, ", label: superclass")).Message.ShouldContain("'superclass' is not a CIFAR-100 label; write fine (100 classes) or coarse");
        Should.Throw<UserInputException>(() => TrialConfig.Load(TestData.WriteFile("trial.yaml", "dataset: { name: cifar10, label: coarse }\nmodel: resnet8\nepochs: 1\n")))
            .Message.ShouldContain("only cifar100 has a choice of labels");
        string truncated = WriteDataset(Records(120)[..^5]);
        Should.Throw<UserInputException>(() => DistillationData.Load(Trial(truncated, "").Data, CPU)).Message
            .ShouldContain("is not a whole number of 3074-byte CIFAR-100 records");
    }

    [Fact]
    public void A_missing_cifar100_says_where_to_put_it()
    {
        string empty = TestData.TemporaryDirectory();
        Should.Throw<MissingDatasetException>(() => DistillationData.Load(new DataOptions("cifar100", empty, 20), CPU)).Message
            .ShouldContain("Put train.bin and test.bin of the CIFAR-100 binary version");
    }
}
