using Orchestrator.Distillation.Data;

namespace Orchestrator.Distillation.Models;

/// <summary>
/// Multilayer perceptrons named by their hidden widths: <c>mlp-1200-1200</c> is 784-1200-1200-10 on 28x28 images
/// (the seeds' teacher), <c>mlp-400</c> the seeds' student, <c>mlp-800-800</c> Hinton et al.'s.
/// </summary>
sealed class MlpFamily : ModelFamily
{
    const string Prefix = "mlp-";

    /// <summary>The widest hidden layer and the most of them: a 784-65536-10 MLP is already 52M parameters; beyond, a typo, not a student.</summary>
    public const int MaxWidth = 65_536, MaxLayers = 16;

    /// <summary>
    /// The most weights an MLP's hidden layers may hold between them: 500M weights are 2 GB in float32 and about 8 GB
    /// to train with Adam (weights, gradients, two moments), an H200's share for one slot, not a machine's.
    /// </summary>
    public const long MaxHiddenWeights = 500_000_000;

    public override string Summary => "multilayer perceptrons by hidden widths (Hinton et al.'s 784-1200-1200-10 teacher is mlp-1200-1200)";
    public override IEnumerable<string> Patterns => ["mlp-<width>[-<width>...]"];
    public override IEnumerable<string> Examples => ["mlp-400", "mlp-1200-1200"];
    public override int ListOrder => 0;
    public override int AutoPackOnCpu => 8;

    public override bool Matches(string name) => name.StartsWith(Prefix, StringComparison.Ordinal);

    public override void Validate(ModelSpec spec) => Widths(spec.Name);

    public override Classifier Create(ModelSpec spec, DatasetInfo data) => new Mlp(data.Features, Widths(spec.Name), data.Classes, spec.Dropout ?? 0);

    static int[] Widths(string name)
    {
        var parts = name[Prefix.Length..].Split('-');
        if (parts.Length > MaxLayers) throw new UserInputException($"model '{name}': {parts.Length} hidden layers; at most {MaxLayers}.");
        var widths = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], out widths[i]) || widths[i] is <= 0 or > MaxWidth)
                throw new UserInputException($"model '{name}': '{parts[i]}' is not a layer width between 1 and {MaxWidth}; write e.g. mlp-400 or mlp-1200-1200.");
        long weights = widths.Zip(widths.Skip(1), (a, b) => (long)a * b).Sum();
        if (weights > MaxHiddenWeights)
            throw new UserInputException($"model '{name}': its hidden layers alone hold {weights:N0} weights ({weights * 4 / 1e9:N0} GB in float32, about four times that to train); " +
                                         $"at most {MaxHiddenWeights:N0}.");
        return widths;
    }
}
