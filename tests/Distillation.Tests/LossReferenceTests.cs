using Orchestrator.Distillation.Losses;
using Shouldly;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Tests;

/// <summary>Every loss against values and gradients computed independently with PyTorch (reference_losses.py).</summary>
public class LossReferenceTests
{
    const int B = 4, C = 5;
    static readonly long[] Labels = [0, 1, 2, 1];
    static readonly long[] Negatives = [1, 0, 1, 2];

    // The same closed-form inputs as reference_losses.py.
    static Tensor StudentLogits() => Build(B, C, (i, j) => Math.Sin(3 * i + j) * 2).requires_grad_();
    static Tensor TeacherLogits() => Build(B, C, (i, j) => Math.Cos(2 * i + 1.5 * j) * 3);
    static Tensor StudentEmbedding() => Build(B, 3, (i, j) => Math.Sin(0.7 * i + 0.3 * j)).requires_grad_();
    static Tensor TeacherEmbedding() => Build(B, 6, (i, j) => Math.Cos(0.5 * i - 0.2 * j) * 2);

    static Tensor Build(int rows, int columns, Func<int, int, double> value)
    {
        var data = new double[rows * columns];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < columns; j++)
                data[i * columns + j] = value(i, j);
        return tensor(data, [rows, columns], ScalarType.Float64);
    }

    static void ShouldMatch(string reference, Func<Tensor, Tensor> loss, Tensor input)
    {
        var (expected, gradient) = ReferenceValues.Losses[reference];
        var value = loss(input);
        value.backward();
        value.item<double>().ShouldBe(expected, tolerance: 1e-9 * Math.Max(1, Math.Abs(expected)));
        var actual = input.grad!.flatten().data<double>().ToArray();
        actual.Length.ShouldBe(gradient.Length);
        for (int k = 0; k < actual.Length; k++)
            actual[k].ShouldBe(gradient[k], tolerance: 1e-9, $"gradient element {k} of {reference}");
    }

    [Fact]
    public void Cross_entropy_matches_reference() =>
        ShouldMatch("ce", s => DistillationLosses.CrossEntropy(s, tensor(Labels)), StudentLogits());

    [Theory]
    [InlineData(1.0)]
    [InlineData(4.0)]
    [InlineData(20.0)]
    public void Hinton_loss_matches_reference_KL_times_T_squared(double temperature) =>
        ShouldMatch($"hinton_T{temperature:G}", s => DistillationLosses.Hinton(s, TeacherLogits(), temperature), StudentLogits());

    [Theory]
    [InlineData(1.0)]
    [InlineData(4.0)]
    [InlineData(20.0)]
    public void Soft_cross_entropy_matches_reference(double temperature) =>
        ShouldMatch($"softce_T{temperature:G}", s => DistillationLosses.SoftCrossEntropy(s, TeacherLogits(), temperature), StudentLogits());

    [Fact]
    public void Logit_mse_matches_reference() =>
        ShouldMatch("logit_mse", s => DistillationLosses.LogitMse(s, TeacherLogits()), StudentLogits());

    [Theory]
    [InlineData(1.0, "triplet_m1")]
    [InlineData(50.0, "triplet_m50")]
    public void Triplet_matches_reference(double margin, string reference) =>
        ShouldMatch(reference, s => DistillationLosses.Triplet(s, TeacherLogits(), tensor(Negatives), margin), StudentLogits());

    [Fact]
    public void Rkd_distance_matches_Park_et_al_reference() =>
        ShouldMatch("rkd_d", s => DistillationLosses.RkdDistance(s, TeacherEmbedding()), StudentEmbedding());

    [Fact]
    public void Rkd_angle_matches_Park_et_al_reference() =>
        ShouldMatch("rkd_a", s => DistillationLosses.RkdAngle(s, TeacherEmbedding()), StudentEmbedding());
}
