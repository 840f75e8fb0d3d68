using Orchestrator.Distillation.Configuration;
using Orchestrator.Distillation.Training;
using Orchestrator.Tests;
using Shouldly;
using static TorchSharp.torch;

namespace Orchestrator.Distillation.Tests;

/// <summary>augment: each sample's shift and flip, a function of its position and a key, against a plain loop over pixels.</summary>
public class AugmentationTests
{
    const int Side = 8, Count = 64;
    const float BlackValue = -0.5f;

    static Tensor Images() { manual_seed(7); return rand(Count, 1, Side, Side); }
    static Tensor Positions() => arange(Count, ScalarType.Int64);
    static Tensor Black() => full(1, 1, 1, 1, BlackValue);

    /// <summary>The image read at (row + dy, column + dx), mirrored first when asked; black outside.</summary>
    static float[] Moved(float[] image, int dx, int dy, bool flip)
    {
        var moved = new float[Side * Side];
        for (int r = 0; r < Side; r++)
        for (int c = 0; c < Side; c++)
        {
            int row = r + dy, column = (flip ? Side - 1 - c : c) + dx;
            moved[r * Side + c] = row is >= 0 and < Side && column is >= 0 and < Side ? image[row * Side + column] : BlackValue;
        }
        return moved;
    }

    /// <summary>Every (dx, dy, flip) within the options that turns the sample into what Apply returned.</summary>
    static List<(int Dx, int Dy, bool Flip)> Explanations(Tensor original, Tensor augmented, int shift, bool flips)
    {
        var image = original.data<float>().ToArray();
        var result = augmented.data<float>().ToArray();
        var found = new List<(int, int, bool)>();
        foreach (bool flip in flips ? new[] { false, true } : [false])
            for (int dy = -shift; dy <= shift; dy++)
            for (int dx = -shift; dx <= shift; dx++)
                if (Moved(image, dx, dy, flip).SequenceEqual(result)) found.Add((dx, dy, flip));
        return found;
    }

    [Theory]
    [InlineData(0, 2, false)]
    [InlineData(1, 1, true)]
    [InlineData(0, 0, true)]
    public void Each_sample_is_shifted_within_the_margin_and_mirrored_or_not_with_black_padding(int crop, int jitter, bool flip)
    {
        using var images = Images();
        using var black = Black();
        var options = new AugmentOptions(crop, flip, jitter);
        using var augmented = Augmentation.Apply(images, Positions(), Augmentation.EpochKey(1, 0), options, black);
        var used = new List<(int Dx, int Dy, bool Flip)>();
        for (int i = 0; i < Count; i++)
        {
            var explanations = Explanations(images[i], augmented[i], crop + jitter, flip);
            explanations.ShouldNotBeEmpty($"sample {i} is not a shift of up to {crop + jitter} pixels{(flip ? " or its mirror" : "")}");
            used.Add(explanations[0]);
        }
        if (crop + jitter > 0) used.Select(u => (u.Dx, u.Dy)).Distinct().Count().ShouldBeGreaterThan(5); // the shifts vary
        if (flip) used.Select(u => u.Flip).Distinct().Count().ShouldBe(2); // some mirrored, some not
    }

    [Fact]
    public void A_sample_is_augmented_the_same_in_any_batch_and_differently_in_another_epoch()
    {
        using var images = Images();
        using var black = Black();
        var options = new AugmentOptions(Crop: 2, Flip: true);
        long key = Augmentation.EpochKey(seed: 1, epoch: 3);
        using var whole = Augmentation.Apply(images, Positions(), key, options, black);
        using var picked = tensor(new long[] { 40, 3, 17 });
        using var batch = Augmentation.Apply(images.index_select(0, picked), picked, key, options, black);
        batch.eq(whole.index_select(0, picked)).all().item<bool>().ShouldBeTrue();
        using var again = Augmentation.Apply(images, Positions(), key, options, black);
        again.eq(whole).all().item<bool>().ShouldBeTrue();
        using var nextEpoch = Augmentation.Apply(images, Positions(), Augmentation.EpochKey(seed: 1, epoch: 4), options, black);
        nextEpoch.eq(whole).all().item<bool>().ShouldBeFalse();
        using var otherSeed = Augmentation.Apply(images, Positions(), Augmentation.EpochKey(seed: 2, epoch: 3), options, black);
        otherSeed.eq(whole).all().item<bool>().ShouldBeFalse();
    }

    [Fact]
    public void Epoch_keys_and_view_keys_never_meet()
    {
        var views = Enumerable.Range(0, 1000).Select(Augmentation.ViewKey).ToHashSet();
        views.Count.ShouldBe(1000);
        Enumerable.Range(0, 1000).Select(e => Augmentation.EpochKey(1, e)).ShouldAllBe(k => !views.Contains(k));
    }

    static TrialConfig Trial(string dataset, string augment) =>
        TrialConfig.Load(TestData.WriteFile("trial.yaml", $"dataset: {dataset}\nmodel: mlp-400\nepochs: 1\naugment: {augment}\n"));

    [Fact]
    public void Standard_augmentation_is_the_datasets_usual_and_digits_are_not_mirrored_unless_asked()
    {
        Trial("cifar10", "standard").Training.Augment.ShouldBe(new AugmentOptions(Crop: 4, Flip: true));
        Trial("fashion-mnist", "standard").Training.Augment.ShouldBe(new AugmentOptions(Flip: true, Jitter: 2));
        Trial("mnist", "standard").Training.Augment.ShouldBe(new AugmentOptions(Jitter: 2));
        Trial("mnist", "{ preset: standard, flip: true }").Training.Augment.ShouldBe(new AugmentOptions(Flip: true, Jitter: 2));
        Trial("mnist", "{ jitter: 1 }").Training.Augment.ShouldBe(new AugmentOptions(Jitter: 1));
        Trial("mnist", "none").Training.Augment.ShouldBeNull();
    }

    [Theory]
    [InlineData("{ crop: 4, jitter: 4 }", "4:29: augment.jitter: crop + jitter = 8 pixels shifts mnist's 28x28 images too far; give at most 7 in all.")]
    [InlineData("{ jitter: -1 }", "4:20: augment.jitter: crop and jitter are pixels")]
    [InlineData("wobble", "4:10: augment.preset: 'wobble' is not an augmentation")]
    [InlineData("{ rotate: 10 }", "augment.rotate")]
    public void A_bad_augmentation_names_its_line_and_what_to_write(string augment, string message) =>
        Should.Throw<UserInputException>(() => Trial("mnist", augment)).Message.ShouldContain(message);
}
