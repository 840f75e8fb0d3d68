namespace Orchestrator.Distillation.Data;

/// <summary>
/// CIFAR-100 "binary version" (cifar-100-binary: train.bin, test.bin; 3074-byte records, <see cref="CifarBinary"/>):
/// 100 fine classes, or the 20 coarse superclasses with <c>dataset: { name: cifar100, label: coarse }</c>.
/// The KD literature's benchmark (CRD, DKD, mdistiller) uses the fine labels.
/// </summary>
public sealed class Cifar100Source : DatasetSource
{
    readonly bool coarse;

    public Cifar100Source() { }

    Cifar100Source(bool coarse) => this.coarse = coarse;

    /// <summary>The labels <c>dataset.label</c> may name.</summary>
    public static readonly string[] Labels = ["fine", "coarse"];

    public override DatasetSource For(DataOptions options) => options.Label == "coarse" ? new Cifar100Source(coarse: true) : this;

    public override string Name => "cifar100";
    public override int ListOrder => 3;
    public override int Channels => 3;
    public override int TrainSamples => 50_000;
    public override int Classes => coarse ? 20 : 100;
    public override int ImageSide => CifarBinary.Side;
    public override IReadOnlyList<string> Files { get; } = ["train.bin", "test.bin"];
    public override string InstallHint =>
        "Put train.bin and test.bin of the CIFAR-100 binary version (cifar-100-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html) there, " +
        "or point --data-dir / ORCHESTRATOR_DATA_DIR at a folder holding cifar100/.";

    public override RawImages ReadTrain(string directory) => Read(RequireFile(directory, "train.bin"));
    public override RawImages ReadTest(string directory) => Read(RequireFile(directory, "test.bin"));

    RawImages Read(string path) => CifarBinary.Read([path], labelBytes: 2, label: coarse ? 0 : 1, Classes, "CIFAR-100");
}
