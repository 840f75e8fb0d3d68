namespace Orchestrator.Distillation.Data;

/// <summary>
/// CIFAR-10 "binary version": data_batch_1..5.bin and test_batch.bin, each a run of 3073-byte records
/// (one label byte, then 1024 red, 1024 green, 1024 blue bytes of a 32x32 image, row-major).
/// </summary>
public sealed class Cifar10Source : DatasetSource
{
    public override int Channels => 3;
    const int Side = 32;
    const int RecordLength = 1 + 3 * Side * Side;
    static readonly string[] TrainFiles = ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"];

    public override string Name => "cifar10";
    public override int ListOrder => 2;
    public override int TrainSamples => 50_000;
    public override int Classes => 10;
    public override int ImageSide => 32;
    public override IReadOnlyList<string> Files { get; } = [.. TrainFiles, "test_batch.bin"];
    public override string InstallHint =>
        "Put the CIFAR-10 binary version (the *.bin files of cifar-10-batches-bin) there, or point --data-dir / ORCHESTRATOR_DATA_DIR at a folder holding cifar10/.";

    public override RawImages ReadTrain(string directory) => ReadBatches(directory, TrainFiles);
    public override RawImages ReadTest(string directory) => ReadBatches(directory, ["test_batch.bin"]);

    RawImages ReadBatches(string directory, string[] fileNames)
    {
        var pixels = new MemoryStream();
        var labels = new MemoryStream();
        foreach (string fileName in fileNames)
        {
            string path = RequireFile(directory, fileName);
            byte[] bytes = File.ReadAllBytes(path);
            if (bytes.Length == 0 || bytes.Length % RecordLength != 0)
                throw new UserInputException(
                    $"{path}: {bytes.Length} bytes is not a whole number of {RecordLength}-byte CIFAR-10 records; the file is truncated or not the binary version.");
            for (int offset = 0; offset < bytes.Length; offset += RecordLength)
            {
                byte label = bytes[offset];
                if (label >= Classes)
                    throw new UserInputException($"{path}: label {label} of record {offset / RecordLength} is outside 0..{Classes - 1}; the file is corrupt.");
                labels.WriteByte(label);
                pixels.Write(bytes, offset + 1, RecordLength - 1);
            }
        }
        return RawImages.FromBytes(pixels.ToArray(), labels.ToArray(), channels: 3, height: Side, width: Side);
    }
}
