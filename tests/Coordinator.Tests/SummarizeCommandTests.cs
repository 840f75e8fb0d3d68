using Orchestrator.Coordinator.Commands;
using Orchestrator.Tests;
using Shouldly;

namespace Orchestrator.Coordinator.Tests;

public class SummarizeCommandTests
{
    [Fact]
    public void Mean_and_sample_standard_deviation_are_in_percent() =>
        SummarizeCommand.MeanStd([0.88, 0.90, 0.92]).ShouldBe("90.00 ± 2.00"); // std of 88, 90, 92 with n - 1 = 2

    [Fact]
    public async Task Summaries_of_several_seeds_become_one_row_per_trial()
    {
        string root = TestData.TemporaryDirectory();
        foreach (var (seed, accuracy) in new[] { (1, 0.8), (2, 0.9) })
        {
            string directory = Directory.CreateDirectory(Path.Combine(root, $"seed{seed}")).FullName;
            await File.WriteAllTextAsync(Path.Combine(directory, "summary.json"),
                $$"""{ "name": "student", "model": "mlp-400", "status": "TRIAL_STATUS_COMPLETED", "best_validation_accuracy": {{accuracy}}, "test_accuracy": {{accuracy - 0.1}} }""",
                TestContext.Current.CancellationToken);
        }
        var (code, stdout, stderr) = await OrchestratorProcess.RunAsync("summarize", root);
        code.ShouldBe(0, stderr);
        stdout.ShouldContain("| student | mlp-400 | 2 | 0 | 85.00 ± 7.07 | 75.00 ± 7.07 | - |");
    }

    [Fact]
    public async Task No_summaries_is_an_error()
    {
        var (code, _, stderr) = await OrchestratorProcess.RunAsync("summarize", TestData.TemporaryDirectory());
        code.ShouldBe(2);
        stderr.ShouldContain("no summary.json found");
    }
}
