using Orchestrator.Distillation.Data;
using Orchestrator.Tests;
using Shouldly;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Tests;

public class DatasetTests
{
    [Fact]
    public void Real_fashion_mnist_loads_with_a_validation_split_from_the_training_set()
    {
        using var data = DistillationData.Load(new DataOptions("fashion-mnist", TestData.FashionMnistSubset(1000, 300), Validation: 200), CPU);
        data.Info.ShouldBe(new DatasetInfo("fashion-mnist", 1, 28, 28, 10));
        data.Train.Count.ShouldBe(800);
        data.Validation.Count.ShouldBe(200);
        data.Test.Count.ShouldBe(300);
        data.Train.Images.shape.ShouldBe([800, 1, 28, 28]);
        // Normalised with the training split's statistics: mean 0 and std 1 there.
        data.Train.Images.mean().item<float>().ShouldBe(0f, tolerance: 1e-4);
        data.Train.Images.std().item<float>().ShouldBe(1f, tolerance: 1e-3);
        data.Train.Labels.max().item<long>().ShouldBe(9);
    }

    [Fact]
    public void Gzip_and_raw_idx_files_decode_to_the_same_samples()
    {
        string directory = TestData.TemporaryDirectory();
        byte[] pixels = Enumerable.Range(0, 2 * 3 * 4).Select(i => (byte)(i * 7)).ToArray();
        TestData.WriteIdx(Path.Combine(directory, "a.gz"), [2, 3, 4], pixels, gzip: true);
        TestData.WriteIdx(Path.Combine(directory, "a.raw"), [2, 3, 4], pixels, gzip: false);
        var gz = IdxReader.Read(Path.Combine(directory, "a.gz"), 3);
        var raw = IdxReader.Read(Path.Combine(directory, "a.raw"), 3);
        gz.Shape.ShouldBe([2, 3, 4]);
        gz.Data.ShouldBe(pixels);
        raw.Data.ShouldBe(pixels);
    }

    [Fact]
    public void Wrong_idx_magic_is_reported_with_the_file()
    {
        string path = Path.Combine(TestData.TemporaryDirectory(), "labels");
        TestData.WriteIdx(path, [5], new byte[5], gzip: false);
        var error = Should.Throw<UserInputException>(() => IdxReader.Read(path, expectedDimensions: 3));
        error.Message.ShouldContain(path);
        error.Message.ShouldContain("wrong IDX magic 0x00000801, expected 0x00000803");
    }

    [Fact]
    public void Truncated_idx_file_is_reported_with_declared_and_actual_sizes()
    {
        string path = Path.Combine(TestData.TemporaryDirectory(), "images");
        TestData.WriteIdx(path, [10, 28, 28], new byte[9 * 784], gzip: false);
        var error = Should.Throw<UserInputException>(() => IdxReader.Read(path, 3));
        error.Message.ShouldContain("truncated");
        error.Message.ShouldContain($"{10 * 784} bytes of data, the file holds {9 * 784}");
    }

    [Theory]
    [InlineData(-1, 28, 28, "dimension 1 a size of -1")]
    [InlineData(10, 0, 0, "dimension 2 a size of 0")]
    [InlineData(65536, 65536, 65536, "over 2,147,483,591 bytes")] // a product that wraps: 2^48 bytes declared
    public void A_corrupt_idx_header_is_bad_input_before_anything_is_allocated(int count, int rows, int columns, string message)
    {
        string path = Path.Combine(TestData.TemporaryDirectory(), "images");
        TestData.WriteIdx(path, [count, rows, columns], new byte[100], gzip: false);
        var error = Should.Throw<UserInputException>(() => IdxReader.Read(path, 3)); // it crashed the process (exit 134)
        error.Message.ShouldContain(path);
        error.Message.ShouldContain(message);
    }

    [Fact]
    public void Label_out_of_range_names_the_sample()
    {
        string root = TestData.FashionMnistSubset(100, 50);
        string labels = Path.Combine(root, "fashion-mnist", "t10k-labels-idx1-ubyte.gz");
        var bytes = new byte[50];
        bytes[7] = 12;
        TestData.WriteIdx(labels, [50], bytes, gzip: true);
        var error = Should.Throw<UserInputException>(() => DistillationData.Load(new DataOptions("fashion-mnist", root, Validation: 10), CPU));
        error.Message.ShouldContain("label 12 of sample 7 is outside 0..9");
    }

    [Fact]
    public void Missing_dataset_names_the_package_to_install()
    {
        var error = Should.Throw<UserInputException>(() =>
            DistillationData.Load(new DataOptions("fashion-mnist", TestData.TemporaryDirectory()), CPU));
        error.Message.ShouldContain("apt-get install dataset-fashion-mnist");
        error.Message.ShouldContain("train-images-idx3-ubyte.gz");
    }

    [Fact]
    public void Unknown_dataset_suggests_the_nearest_name() =>
        Should.Throw<UserInputException>(() => DatasetRegistry.Get("fashion-mnst")).Message.ShouldContain("did you mean 'fashion-mnist'");

    [Fact]
    public void Split_is_deterministic_by_seed_disjoint_and_complete()
    {
        var (train, validation) = DistillationData.Split(1000, 100, seed: 7);
        DistillationData.Split(1000, 100, seed: 7).Validation.ShouldBe(validation);
        DistillationData.Split(1000, 100, seed: 8).Validation.ShouldNotBe(validation);
        train.Intersect(validation).ShouldBeEmpty();
        train.Concat(validation).Order().ShouldBe(Enumerable.Range(0, 1000).Select(i => (long)i));
    }

    [Fact]
    public void Batches_by_index_keep_images_and_labels_together()
    {
        var images = arange(10, dtype: ScalarType.Float32).reshape(10, 1, 1, 1);
        using var set = new ImageSet(images, arange(10, dtype: ScalarType.Int64) * 3);
        var (batch, labels) = set.Batch(tensor(new long[] { 7, 2, 5 }));
        batch.flatten().data<float>().ToArray().ShouldBe([7f, 2f, 5f]);
        labels.data<long>().ToArray().ShouldBe([21L, 6L, 15L]);
    }

    [Fact]
    public void Synthetic_data_needs_no_files_and_is_the_same_every_time()
    {
        using var first = DistillationData.Load(new DataOptions("synthetic", "/nonexistent", Validation: 200), CPU);
        using var second = DistillationData.Load(new DataOptions("synthetic", Validation: 200), CPU);
        first.Info.ShouldBe(new DatasetInfo("synthetic", 1, 8, 8, 10));
        (first.Train.Count, first.Validation.Count, first.Test.Count).ShouldBe((1800L, 200L, 500L));
        first.Train.Images.allclose(second.Train.Images, rtol: 0, atol: 0).ShouldBeTrue();
    }
}
