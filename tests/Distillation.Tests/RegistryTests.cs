using Orchestrator.Distillation.Losses;
using Orchestrator.Distillation.Data;
using Orchestrator.Distillation.Models;
using Orchestrator.Tests;
using Shouldly;

namespace Orchestrator.Distillation.Tests;

/// <summary>Model families and dataset sources are files of their own, found by their registries.</summary>
public sealed class RegistryTests
{
    static readonly DatasetInfo Digits = new("mnist", 1, 28, 28, 10);

    [Fact]
    public void Every_model_family_is_found_and_a_name_picks_its_family()
    {
        ModelRegistry.Names.First().ShouldBe("mlp-<width>[-<width>...]");
        ModelRegistry.Names.ShouldContain("bncnn-student");
        ModelRegistry.Validate(new ModelSpec("mlp-1200-1200")).AutoPackOnCpu.ShouldBe(8); // MLPs pack on a CPU
        ModelRegistry.Validate(new ModelSpec("bncnn-student")).AutoPackOnCpu.ShouldBe(1); // convolutions already fill the cores
        Should.Throw<UserInputException>(() => ModelRegistry.Validate(new ModelSpec("mlp-4OO"))).Message.ShouldContain("'4OO' is not a layer width");
        Should.Throw<UserInputException>(() => ModelRegistry.Validate(new ModelSpec("lightn"))).Message.ShouldStartWith("unknown model 'lightn' (did you mean 'lightnn'?)");
        // The zoo's families are named by their parameters, each checked before anything is built.
        ModelRegistry.Validate(new ModelSpec("resnet110")).AutoPackOnCpu.ShouldBe(1);
        Should.Throw<UserInputException>(() => ModelRegistry.Validate(new ModelSpec("resnet9"))).Message.ShouldContain("a CIFAR ResNet's depth is 6n + 2");
        Should.Throw<UserInputException>(() => ModelRegistry.Validate(new ModelSpec("resnet8x1"))).Message.ShouldContain("write resnet8 for the plain one");
        Should.Throw<UserInputException>(() => ModelRegistry.Validate(new ModelSpec("wrn-17-2"))).Message.ShouldContain("depth 6n + 4");
        Should.Throw<UserInputException>(() => ModelRegistry.Validate(new ModelSpec("vgg12"))).Message.ShouldStartWith("unknown model 'vgg12' (did you mean");
    }

    [Fact]
    public void A_family_counts_its_parameters_for_a_dataset()
    {
        // 784-400-10: 784 * 400 + 400 weights and biases, then 400 * 10 + 10.
        ModelRegistry.Validate(new ModelSpec("mlp-400")).Parameters(new ModelSpec("mlp-400"), Digits).ShouldBe(784 * 400 + 400 + 400 * 10 + 10);
    }

    [Fact]
    public void Every_dataset_source_is_found_in_its_listing_order()
    {
        DatasetRegistry.Names.ShouldBe(["fashion-mnist", "mnist", "cifar10", "cifar100", "synthetic"]);
        DatasetRegistry.Get("fashion-mnist").InstallHint.ShouldContain("apt-get install dataset-fashion-mnist");
    }

    [Fact]
    public void FashionMnistSource_reads_the_real_idx_files_and_MnistSource_says_where_its_files_go()
    {
        var fashion = DatasetRegistry.Get("fashion-mnist");
        var train = fashion.ReadTrain(Path.Combine(TestData.FashionMnistSubset(train: 300, test: 100), "fashion-mnist"));
        (train.Count, fashion.Classes, fashion.ImageSide).ShouldBe((300, 10, 28));
        var mnist = DatasetRegistry.Get("mnist");
        string empty = TestData.TemporaryDirectory();
        Should.Throw<UserInputException>(() => mnist.ReadTrain(empty)).Message.ShouldContain("dataset 'mnist': missing file");
        mnist.Missing(new DataOptions("mnist", DataDir: empty))!.ShouldBe(
            $"dataset 'mnist' is not on this machine: {Path.Combine(empty, "mnist")} does not exist (the datasets' root {empty} is the file's data_dir; " +
            $"{Path.Combine(empty, "mnist")} should hold {string.Join(", ", mnist.Files)}). {mnist.InstallHint}");
        mnist.Files.ShouldContain("train-images-idx3-ubyte.gz");
    }

    [Fact]
    public void This_sessions_term_files_and_the_torchscript_family_are_found_by_their_names()
    {
        LossTerms.Get("dkd").GetType().Name.ShouldBe("DkdTerm");
        LossTerms.Get("dist").GetType().Name.ShouldBe("DistTerm");
        LossTerms.Get("at").GetType().Name.ShouldBe("AttentionTransferTerm");
        LossTerms.Get("hint").GetType().Name.ShouldBe("HintTerm");
        // A spec that names a file is the TorchScript family's, whatever the file is called.
        ModelRegistry.Validate(new ModelSpec("resnet8", TorchScript: "/nowhere/resnet8")).GetType().Name.ShouldBe("TorchScriptFamily");
        ModelRegistry.Validate(new ModelSpec("resnet8")).GetType().Name.ShouldNotBe("TorchScriptFamily");
    }
}
