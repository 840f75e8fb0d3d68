using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Models;

/// <summary>
/// FitNets' regressor (Romero et al. 2015) from the student's feature maps to the teacher's, one per stage the hint
/// loss compares: a 1x1 convolution to the teacher's channels, BatchNorm and ReLU, as CRD's and mdistiller's ConvReg.
/// It is a child of the student (<see cref="Classifier.AttachHint"/>) under <see cref="Key"/>, so it trains with the
/// student's optimizer and is in the trial's checkpoints (a resumed trial continues exactly); it is not part of the
/// trained model: export, teachers and the parameter count leave it out.
/// </summary>
public sealed class HintRegressor : nn.Module
{
    /// <summary>Its name among the student's children: its weights' keys start with "hint.".</summary>
    public const string Key = "hint";

    /// <param name="stages">Each stage with the student's and the teacher's channels there.</param>
    public HintRegressor(IReadOnlyList<(string Stage, long StudentChannels, long TeacherChannels)> stages) : base(Key)
    {
        foreach (var (stage, from, to) in stages)
        {
            var layer = nn.Sequential(("conv", nn.Conv2d(from, to, 1)), ("bn", nn.BatchNorm2d(to)), ("relu", nn.ReLU()));
            register_module(stage, layer);
            layers.Add(layer);
        }
        Stages = stages.Select(s => s.Stage).ToList();
    }

    /// <summary>Each stage's regressor, in <see cref="Stages"/>' order: looked up once, not on every forward.</summary>
    readonly List<Sequential> layers = [];

    /// <summary>The stages it maps, in the loss's order.</summary>
    public IReadOnlyList<string> Stages { get; }

    /// <summary>The regressor of one stage, with its key under the student ("hint.stage2").</summary>
    public (string Key, Sequential Layer) Of(string stage) => ($"{Key}.{stage}", layers[Stages.ToList().IndexOf(stage)]);

    /// <summary>The student's maps [B, C, H, W] at <see cref="Stages"/> mapped to the teacher's channels.</summary>
    public IReadOnlyList<Tensor> Map(IReadOnlyList<Tensor> maps) => layers.Zip(maps).Select(p => p.First.forward(p.Second)).ToList();

    /// <summary>Whether a state-dict key of the student is one of its weights.</summary>
    public static bool Owns(string key) => key.StartsWith(Key + ".", StringComparison.Ordinal);
}
