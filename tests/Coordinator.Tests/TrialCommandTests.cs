using Orchestrator.Tests;
using Shouldly;

namespace Orchestrator.Coordinator.Tests;

/// <summary>`orchestrator trial` as a user runs it: a real process, real Fashion-MNIST images, real exit codes and signals.</summary>
public class TrialCommandTests
{
    static readonly string DataRoot = TestData.FashionMnistSubset(train: 2400, test: 400);

    const string Teacher = """
        name: cli-teacher
        dataset: { name: fashion-mnist, validation: 400 }
        model: mlp-256
        epochs: 3
        batch_size: 100
        device: cpu
        """;

    [Fact]
    public async Task Trial_prints_one_line_per_epoch_and_writes_its_outputs()
    {
        string output = TestData.TemporaryDirectory();
        var (code, stdout, stderr) = await OrchestratorProcess.RunAsync("trial", TestData.WriteFile("trial.yaml", Teacher), "--data-dir", DataRoot, "--out", output);
        code.ShouldBe(0, stderr);
        stdout.Split('\n').Count(l => l.StartsWith("epoch ")).ShouldBe(3);
        stdout.ShouldContain("model mlp-256: 203,530 parameters");
        stdout.ShouldContain("test accuracy of that checkpoint");
        foreach (var file in new[] { "metrics.jsonl", "summary.json", "best.ckpt", "last.ckpt" })
            File.Exists(Path.Combine(output, file)).ShouldBeTrue(file);
    }

    [Fact]
    public async Task A_killed_trial_resumes_from_its_last_checkpoint_without_repeating_epochs()
    {
        string output = TestData.TemporaryDirectory();
        string trial = TestData.WriteFile("trial.yaml", Teacher.Replace("epochs: 3", "epochs: 8").Replace("mlp-256", "mlp-1200-1200").Replace("batch_size: 100", "batch_size: 16"));
        string metrics = Path.Combine(output, "metrics.jsonl");
        using (var running = OrchestratorProcess.Start("trial", trial, "--data-dir", DataRoot, "--out", output))
        {
            var deadline = DateTime.UtcNow.AddMinutes(3);
            while (!(File.Exists(metrics) && File.ReadAllLines(metrics).Length >= 1) && DateTime.UtcNow < deadline && !running.HasExited)
                await Task.Delay(50, TestContext.Current.CancellationToken);
            running.HasExited.ShouldBeFalse("the trial finished before it could be killed; make it longer");
            running.Kill(); // SIGKILL: no chance to clean up
            await running.WaitForExitAsync(TestContext.Current.CancellationToken);
        }
        int epochsBeforeKill = File.ReadAllLines(metrics).Length;
        epochsBeforeKill.ShouldBeLessThan(8);

        var (code, stdout, stderr) = await OrchestratorProcess.RunAsync("trial", trial, "--data-dir", DataRoot, "--out", output);
        code.ShouldBe(0, stderr);
        stdout.ShouldContain("resuming from");
        stdout.Split('\n').Count(l => l.StartsWith("epoch ")).ShouldBeLessThan(8);
        File.ReadAllLines(metrics).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("epoch").GetInt32())
            .ShouldBe(Enumerable.Range(1, 8));
        Directory.GetFiles(output, "*.tmp", SearchOption.AllDirectories).ShouldBeEmpty();
    }

    [Theory]
    [InlineData("dataset: { name: fashion-mnist, validation: 400 }\nmodel: mlp-400\nepochs: 1\nlearning_rate: 0.1\n", "trial.yaml:4:1: unknown key 'learning_rate'")]
    [InlineData("dataset: { name: fashion-mnist, validation: 400 }\nmodel: mlp-4OO\nepochs: 1\n", "trial.yaml:2:8: model.name: model 'mlp-4OO': '4OO' is not a layer width between 1 and 65536")]
    [InlineData("dataset: { name: fashion-mnist, validation: 400 }\nmodel: mlp-400\nepochs: 1\nloss: { terms: [ce, hinton], alpha: 0.5 }\n", "which need a teacher")]
    [InlineData("dataset: { name: fashion-mnist, validation: 400 }\nmodel: mlp-400\nepochs: 1\ndevice: cuda:0\n", "CUDA is not available here")]
    public async Task Bad_input_exits_with_code_2_and_a_message(string yaml, string message)
    {
        var (code, _, stderr) = await OrchestratorProcess.RunAsync("trial", TestData.WriteFile("trial.yaml", yaml), "--data-dir", DataRoot, "--out", TestData.TemporaryDirectory());
        code.ShouldBe(2);
        stderr.ShouldContain(message);
    }

    [Fact]
    public async Task Missing_dataset_exits_2_and_names_the_package()
    {
        var (code, _, stderr) = await OrchestratorProcess.RunAsync("trial", TestData.WriteFile("trial.yaml", Teacher), "--data-dir", TestData.TemporaryDirectory());
        code.ShouldBe(2);
        stderr.ShouldContain("apt-get install dataset-fashion-mnist");
    }

    [Fact]
    public async Task Unknown_flag_exits_2()
    {
        var (code, _, stderr) = await OrchestratorProcess.RunAsync("trial", TestData.WriteFile("trial.yaml", Teacher), "--epoch", "3");
        code.ShouldBe(2);
        stderr.ShouldContain("--epoch");
    }
}
