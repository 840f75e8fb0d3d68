namespace Orchestrator.Distillation.Data;

/// <summary>CIFAR-10 "binary version": data_batch_1..5.bin and test_batch.bin, 3073-byte records (<see cref="CifarBinary"/>).</summary>
public sealed class Cifar10Source : DatasetSource
{
    public override int Channels => 3;
    static readonly string[] TrainFiles = ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"];

    public override string Name => "cifar10";
    public override int ListOrder => 2;
    public override int TrainSamples => 50_000;
    public override int Classes => 10;
    public override int ImageSide => CifarBinary.Side;
    public override IReadOnlyList<string> Files { get; } = [.. TrainFiles, "test_batch.bin"];
    public override string InstallHint =>
        "Put the CIFAR-10 binary version (the *.bin files of cifar-10-batches-bin) there, or point --data-dir / ORCHESTRATOR_DATA_DIR at a folder holding cifar10/.";

    public override RawImages ReadTrain(string directory) => Read(directory, TrainFiles);
    public override RawImages ReadTest(string directory) => Read(directory, ["test_batch.bin"]);

    RawImages Read(string directory, string[] fileNames) =>
        CifarBinary.Read(fileNames.Select(f => RequireFile(directory, f)), labelBytes: 1, label: 0, Classes, "CIFAR-10");
}
