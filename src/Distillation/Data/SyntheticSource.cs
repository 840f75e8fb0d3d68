namespace Orchestrator.Distillation.Data;

/// <summary>
/// SYNTHETIC data for orchestration tests and benchmarks, not for science: 10 classes of 8x8 grey images, each class a
/// fixed random pattern plus noise, generated from a constant seed (2,000 train, 500 test). Any MLP learns it in milliseconds.
/// </summary>
public sealed class SyntheticSource : DatasetSource
{
    const int Side = 8;

    public override string Name => "synthetic";
    public override int ListOrder => 4;
    public override int TrainSamples => 2000;
    public override int DefaultValidation => 500;
    public override int Classes => 10;
    public override int ImageSide => Side;
    public override IReadOnlyList<string> Files { get; } = [];
    public override string InstallHint => "";

    public override RawImages ReadTrain(string directory) => Generate(TrainSamples, seed: 1);
    public override RawImages ReadTest(string directory) => Generate(500, seed: 2);

    RawImages Generate(int count, int seed)
    {
        var patterns = new Random(0);
        var means = Enumerable.Range(0, Classes).Select(_ => Enumerable.Range(0, Side * Side).Select(_ => patterns.NextDouble()).ToArray()).ToArray();
        var random = new Random(seed);
        var pixels = new byte[count * Side * Side];
        var labels = new byte[count];
        for (int i = 0; i < count; i++)
        {
            labels[i] = (byte)(i % Classes);
            for (int p = 0; p < Side * Side; p++)
                pixels[i * Side * Side + p] = (byte)Math.Clamp((means[labels[i]][p] + 0.35 * (random.NextDouble() - 0.5)) * 255, 0, 255);
        }
        return RawImages.FromBytes(pixels, labels, channels: 1, height: Side, width: Side);
    }
}
