using Orchestrator.Distillation.Data;
using static Orchestrator.Distillation.Models.ConvNet;

namespace Orchestrator.Distillation.Models;

/// <summary>The convolutional pairs of the studies in docs/EXPERIMENTS.md, by name (<see cref="ConvNet"/> layer plans).</summary>
sealed class StudyConvNets : ModelFamily
{
    static readonly Layer P = Layer.Pool;
    static Layer C(int channels) => new(channels);

    sealed record Definition(string Description, Layer[] Conv, bool BatchNorm, int[] FullyConnected, double Dropout);

    static readonly Dictionary<string, Definition> Definitions = new()
    {
        // The BatchNorm CNN pair of the triplet-KD study (teacher conv 3-32-32-64-64-128, fc 2048-512-128-10; student conv 3-32-32-64, fc 1024-128-10).
        ["bncnn-teacher"] = new("BatchNorm CNN teacher (triplet-KD study)", [C(32), C(32), P, C(64), C(64), P, C(128), P], true, [512, 128], 0.5),
        ["bncnn-student"] = new("BatchNorm CNN student (triplet-KD study)", [C(32), P, C(32), P, C(64), P], true, [128], 0.5),
        // The PyTorch knowledge-distillation tutorial's DeepNN teacher and LightNN student.
        ["deepnn"] = new("PyTorch KD tutorial teacher", [C(128), C(64), P, C(64), C(32), P], false, [512], 0.1),
        ["lightnn"] = new("PyTorch KD tutorial student", [C(16), P, C(16), P], false, [256], 0.1),
        // AlexNet's layer plan (5 convolutions, 3 pools, 2 hidden fc layers) scaled to 32x32 inputs, with 3x3 kernels throughout.
        ["alexnet"] = new("AlexNet-style CIFAR teacher", [C(64), P, C(192), P, C(384), C(256), C(256), P], false, [1024, 512], 0.5),
    };

    public override string Summary => "the small CNNs of the studies in EXPERIMENTS.md (triplet-KD BatchNorm pair, PyTorch KD tutorial pair, AlexNet-style)";
    public override IEnumerable<string> Patterns => Definitions.Keys;
    public override IEnumerable<string> Examples => Definitions.Keys;
    public override int ListOrder => 10;

    public override bool Matches(string name) => Definitions.ContainsKey(name);

    public override Classifier Create(ModelSpec spec, DatasetInfo data)
    {
        var conv = Definitions[spec.Name];
        if (data.Height != data.Width)
            throw new UserInputException($"model '{spec.Name}' expects square images; dataset '{data.Name}' has {data.Height}x{data.Width}.");
        return new ConvNet(spec.Name, data.Channels, data.Height, conv.Conv, conv.BatchNorm, conv.FullyConnected, spec.Dropout ?? conv.Dropout, data.Classes);
    }
}
