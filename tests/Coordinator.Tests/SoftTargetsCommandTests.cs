using Orchestrator.Distillation.SoftTargets;
using Orchestrator.Tests;
using Shouldly;
using static TorchSharp.torch;

namespace Orchestrator.Coordinator.Tests;

public class SoftTargetsCommandTests
{
    /// <summary>A store holding one well-formed artifact (random rows), as the orchestrator process would find it.</summary>
    static (string Store, string Path, string Key) StoreWithOneArtifact()
    {
        string directory = TestData.TemporaryDirectory();
        var inputs = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["kind"] = "soft-targets", ["dataset"] = "synthetic", ["dataset_fingerprint"] = "f", ["teachers"] = "a,b",
            ["aggregation"] = "mean-probs", ["temperature"] = "4", ["dtype"] = "float32", ["embeddings"] = "no",
        };
        string key = SoftTargetFile.KeyOf(inputs);
        string path = new SoftTargetStore(directory).ArtifactPath(key);
        using var train = randn(30, 10);
        using var validation = randn(5, 10);
        SoftTargetFile.Write(path, "soft-targets", inputs, new() { ["train"] = 30, ["validation"] = 5 }, 10,
            [("train.logits.0", train), ("validation.logits.0", validation)], SoftTargetDtype.Float32,
            [new MemberAccuracy("a.ckpt", "a", 100, 0.8, 0.79), new MemberAccuracy("b.ckpt", "b", 100, 0.82, 0.8)],
            new MemberAccuracy("ensemble of 2", key, 200, 0.85, 0.84));
        return (directory, path, key);
    }

    [Fact]
    public async Task Lists_the_stores_artifacts_and_verify_finds_a_damaged_one()
    {
        var (store, path, key) = StoreWithOneArtifact();
        var (code, stdout, stderr) = await OrchestratorProcess.RunAsync("soft-targets", "--soft-targets", store, "--verify");
        code.ShouldBe(0, stderr);
        stdout.ShouldContain($"| {key} | 2 | mean-probs (T=4) | float32 | no | 30 | 5 |");
        stdout.ShouldContain("85.00");
        stdout.ShouldContain("verified 1 file(s): all intact");

        var bytes = File.ReadAllBytes(path);
        bytes[^3] ^= 1;
        File.WriteAllBytes(path, bytes);
        (code, stdout, _) = await OrchestratorProcess.RunAsync("soft-targets", "--soft-targets", store, "--verify");
        code.ShouldBe(1);
        stdout.ShouldContain("checksum mismatch");
        File.ReadAllBytes(path).ShouldBe(bytes); // verifying changes nothing
    }
}
