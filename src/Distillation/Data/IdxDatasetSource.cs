namespace Orchestrator.Distillation.Data;

/// <summary>MNIST-layout datasets: four IDX files (train/t10k images and labels), gzip-compressed or unpacked, 28x28 grey images.</summary>
public abstract class IdxDatasetSource : DatasetSource
{
    public override int TrainSamples => 60_000; // MNIST and Fashion-MNIST alike
    public override int Classes => 10;
    public override int ImageSide => 28;
    public override IReadOnlyList<string> Files { get; } =
        ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"];

    public override RawImages ReadTrain(string directory) => ReadPair(directory, "train");
    public override RawImages ReadTest(string directory) => ReadPair(directory, "t10k");

    RawImages ReadPair(string directory, string prefix)
    {
        string imagesPath = RequireFile(directory, $"{prefix}-images-idx3-ubyte.gz");
        string labelsPath = RequireFile(directory, $"{prefix}-labels-idx1-ubyte.gz");
        var images = IdxReader.Read(imagesPath, expectedDimensions: 3);
        var labels = IdxReader.Read(labelsPath, expectedDimensions: 1);
        if (images.Shape[0] != labels.Shape[0])
            throw new UserInputException($"{imagesPath} holds {images.Shape[0]} images but {labelsPath} holds {labels.Shape[0]} labels; the files do not belong together.");
        var raw = RawImages.FromBytes(images.Data, labels.Data, channels: 1, height: images.Shape[1], width: images.Shape[2]);
        raw.CheckLabels(labelsPath, Classes);
        return raw;
    }

}
