using System.Runtime.InteropServices;
using Orchestrator.Distillation.Configuration;
using Orchestrator.Distillation.Data;
using Orchestrator.Distillation.Losses;
using Orchestrator.Distillation.Models;
using Orchestrator.Distillation.SoftTargets;
using Orchestrator.Distillation.Training;
using Shouldly;

namespace Orchestrator.Distillation.Tests;

/// <summary>Which trials share a pack, how many, and what happens when a pack does not fit its device.</summary>
public class PackSizingTests
{
    static TrialConfig Trial(string model = "mlp-400", int seed = 1, double alpha = 0.5, double temperature = 4, double rate = 1e-3, string[]? terms = null) =>
        new("t", new DataOptions("fashion-mnist"), new ModelSpec(model), TeacherEnsemble.Single("teacher.ckpt"),
            new LossRecipe(LossRecipe.WeightsFromAlpha(terms ?? ["ce", "hinton"], alpha), temperature, 1, RelationFeature.Logits),
            new TrainingOptions(8, 256, new OptimizerOptions("adam", rate), new ScheduleOptions("cosine"), seed), "cpu");

    [Fact]
    public void Trials_that_differ_in_what_a_pack_holds_per_trial_share_a_key_and_others_do_not()
    {
        string key = PackSizing.Key(Trial());
        PackSizing.Key(Trial(alpha: 0.9, temperature: 2, rate: 3e-3)).ShouldBe(key);
        PackSizing.Key(Trial(seed: 2)).ShouldNotBe(key); // another data order
        PackSizing.Key(Trial(model: "mlp-800")).ShouldNotBe(key);
        PackSizing.Key(Trial(terms: ["ce", "hinton", "triplet"])).ShouldNotBe(key);
    }

    [Fact]
    public void Auto_packs_mlps_on_a_cpu_trains_conv_nets_alone_there_and_packs_up_to_32_on_a_gpu()
    {
        PackSizing.Limits(0, Trial()).ShouldBe((8, PackSizing.AutoGpu)); // an MLP family's auto on a CPU
        PackSizing.Limits(0, Trial(model: "bncnn-student")).ShouldBe((1, PackSizing.AutoGpu));
        PackSizing.Limits(4, Trial(model: "bncnn-student")).ShouldBe((4, 4));
    }

    /// <summary>A device's out-of-memory error, as libtorch raises it (no GPU here: the error is raised by the test).</summary>
    static ExternalException OutOfMemory() => new("CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 79.11 GiB total capacity)");

    [Fact]
    public void A_pack_that_runs_out_of_memory_trains_as_halves_of_the_trials_not_ended_down_to_one()
    {
        var packs = new List<string>();
        var ended = new HashSet<int>();
        PackSizing.HalvingOnOutOfMemory(Enumerable.Range(0, 8).ToList(), trials =>
        {
            packs.Add(string.Join(",", trials));
            if (trials.Count == 8) ended.Add(0); // trial 0 early-stopped and reported before the pack ran out
            if (trials.Count > 2) throw OutOfMemory();
        }, ended.Contains);
        packs.ShouldBe(["0,1,2,3,4,5,6,7", "1,2,3", "1", "2,3", "4,5,6,7", "4,5", "6,7"]);

        Should.Throw<ExternalException>(() => PackSizing.HalvingOnOutOfMemory([5], _ => throw OutOfMemory(), _ => false)); // one trial: its failure
        Should.Throw<InvalidOperationException>(() =>
            PackSizing.HalvingOnOutOfMemory([1, 2], _ => throw new InvalidOperationException("a bug, not memory"), _ => false));
    }
}
