using Orchestrator.Tests;
using Shouldly;

namespace Orchestrator.Coordinator.Tests;

/// <summary>The CLI as a new user meets it, run as real processes: a mistyped command, a missing dataset, failed trials and --retry.</summary>
public sealed class LocalCommandTests
{
    static string Sweep(string dataset, string student, string extra = "") => TestData.WriteFile("sweep.yaml", $"""
        name: first-hour
        dataset: {dataset}
        student: {student}
        {extra}
        seeds: [1]
        """);

    [Fact]
    public async Task A_mistyped_command_gets_one_error_with_the_nearest_command()
    {
        var (code, stdout, stderr) = await OrchestratorProcess.RunAsync("valdate", "sweep.yaml");
        code.ShouldBe(2);
        stderr.Trim().Split('\n').ShouldHaveSingleItem().ShouldStartWith("error: 'valdate' is not a command (did you mean 'validate'?); the commands are validate, local, trial,");
        stdout.ShouldBeEmpty();
    }

    [Fact]
    public async Task A_missing_dataset_is_named_with_its_path_by_validate_and_stops_local_before_anything_runs()
    {
        string empty = TestData.TemporaryDirectory(), output = Path.Combine(TestData.TemporaryDirectory(), "out");
        string sweep = Sweep($"{{ name: mnist, data_dir: {empty} }}", "{ model: mlp-16, epochs: 1, device: cpu }");
        string why = $"dataset 'mnist' is not on this machine: {Path.Combine(empty, "mnist")} does not exist (the datasets' root {empty} is the file's data_dir; " +
                     $"{Path.Combine(empty, "mnist")} should hold train-images-idx3-ubyte.gz,";

        var (code, stdout, _) = await OrchestratorProcess.RunAsync("validate", sweep);
        code.ShouldBe(0); // the file is valid: a cluster's nodes may hold the data this machine lacks
        stdout.ShouldContain($"warning: {why}");
        stdout.ShouldContain("train-images-idx3-ubyte.gz");

        (code, _, string stderr) = await OrchestratorProcess.RunAsync("local", sweep, "--out", output);
        code.ShouldBe(2);
        stderr.ShouldContain($"error: {why}");
        Directory.Exists(output).ShouldBeFalse(); // nothing started, nothing written

        // --data-dir names the root for files that give none, on validate and local alike.
        string noDataDir = Sweep("{ name: fashion-mnist, validation: 100 }", "{ model: mlp-16, epochs: 1, device: cpu }");
        (code, stdout, _) = await OrchestratorProcess.RunAsync("validate", noDataDir, "--data-dir", empty);
        stdout.ShouldContain($"warning: dataset 'fashion-mnist' is not on this machine: {Path.Combine(empty, "fashion-mnist")} does not exist");
        stdout.ShouldContain("apt-get install dataset-fashion-mnist");
        (code, stdout, _) = await OrchestratorProcess.RunAsync("validate", noDataDir, "--data-dir", TestData.FashionMnistSubset(train: 300, test: 100));
        (code, stdout.Contains("warning")).ShouldBe((0, false));
    }

    [Fact]
    public async Task Local_says_how_many_jobs_failed_and_retry_runs_them_again_keeping_the_finished_ones()
    {
        string output = Path.Combine(TestData.TemporaryDirectory(), "out");
        // A learning rate of 1e30 makes the loss non-finite in its first epoch: the trial's own failure, which running again does not retry.
        string sweep = Sweep("{ name: synthetic, validation: 200 }", "{ model: mlp-16, epochs: 1, device: cpu, optimizer: { name: sgd, lr: 0.1 } }",
            "parameters: { lr: { values: [0.1, 1e30] } }");

        var (code, stdout, _) = await OrchestratorProcess.RunAsync("local", sweep, "--out", output);
        code.ShouldBe(1);
        stdout.ShouldContain("first-hour: 1 job(s) failed (results.csv's failure_reason says why); run the same command with --retry to run them again");
        var summaries = Directory.GetFiles(Path.Combine(output, "trials"), "summary.json", SearchOption.AllDirectories).ToDictionary(f => f, File.ReadAllText);
        summaries.Count.ShouldBe(2);

        (code, stdout, _) = await OrchestratorProcess.RunAsync("local", sweep, "--out", output);
        stdout.ShouldContain("resuming, 2 of 2 job(s) already finished");
        stdout.ShouldNotContain("queued again");

        (code, stdout, _) = await OrchestratorProcess.RunAsync("local", sweep, "--out", output, "--retry");
        code.ShouldBe(1); // it fails again: nothing it reads changed
        stdout.ShouldContain("first-hour: --retry: 1 failed job(s) queued again");
        var again = summaries.Keys.ToDictionary(f => f, File.ReadAllText);
        again.Count(s => s.Value != summaries[s.Key]).ShouldBe(1); // the failed trial ran again; the finished one was kept as it was
    }

    [Fact]
    public async Task A_sweep_over_zoo_students_on_a_tensor_file_dataset_runs_through_local_and_plans_the_same_ids_again()
    {
        string data = TestData.TemporaryDirectory();
        PyTorch.Run("tests/Distillation.Tests/python/write_tensor_dataset.py", TestData.FashionMnistSubset(train: 300, test: 100), data);
        string sweep = Path.Combine(data, "sweep.yaml");
        File.WriteAllText(sweep, """
            name: zoo-on-files
            dataset: { train: train.npz, test: test.safetensors, validation: 100 }
            teacher: { model: mlp-64, epochs: 1, device: cpu }
            student: { model: resnet8, epochs: 1, batch_size: 64, device: cpu, loss: { terms: [ce, hinton], alpha: 0.5, temperature: 4 } }
            parameters:
              student.model: { values: [resnet8, resnet14, resnet20] }
            seeds: [1]
            """);
        string first = Path.Combine(TestData.TemporaryDirectory(), "out"), second = Path.Combine(TestData.TemporaryDirectory(), "out");

        var (code, stdout, stderr) = await OrchestratorProcess.RunAsync("local", sweep, "--out", first);
        code.ShouldBe(0, stdout + stderr);
        string results = File.ReadAllText(Path.Combine(first, "results.csv"));
        foreach (string model in new[] { "resnet8", "resnet14", "resnet20" }) results.ShouldContain(model);

        (code, stdout, stderr) = await OrchestratorProcess.RunAsync("validate", sweep, "--show", "20");
        code.ShouldBe(0, stderr);
        stdout.ShouldContain("models on train (1x28x28, 10 classes): mlp-64 50.9k parameters, resnet8 77.8k parameters, resnet14 175.0k parameters, resnet20 272.2k parameters");
        var planned = Directory.GetDirectories(Path.Combine(first, "trials")).Select(Path.GetFileName).ToList();
        var trained = planned.Where(id => id!.Split('-')[0] is "teacher" or "trial" or "baseline").ToList();
        trained.Count.ShouldBe(1 + 3 + 3); // the teacher, three students and their baselines
        foreach (string? id in trained) stdout.ShouldContain(id!); // validate plans the ids local ran

        (code, _, stderr) = await OrchestratorProcess.RunAsync("local", sweep, "--out", second);
        code.ShouldBe(0, stderr);
        Directory.GetDirectories(Path.Combine(second, "trials")).Select(Path.GetFileName).Order().ShouldBe(planned.Order());
    }

    [Fact]
    public async Task Models_lists_every_family_with_the_literatures_parameter_counts()
    {
        var (code, stdout, _) = await OrchestratorProcess.RunAsync("models");
        code.ShouldBe(0);
        stdout.ShouldStartWith("model families (parameters for cifar100: 3x32x32 images, 100 classes;");
        foreach (string count in new[] { "resnet8x4 1.23M", "resnet32x4 7.43M", "wrn-40-2 2.26M", "vgg13 9.46M", "mobilenetv2 812.8k", "mlp-400 1.27M" })
            stdout.ShouldContain(count);
        stdout.ShouldContain("stages (for loss.stages): stage1, stage2, stage3"); // the CIFAR ResNets'
        stdout.ShouldContain("stages (for loss.stages): stage1, stage2, stage3, stage4, stage5"); // VGG's five blocks
        (code, stdout, _) = await OrchestratorProcess.RunAsync("models", "--dataset", "fashion-mnist");
        stdout.ShouldContain("mlp-400 318.0k");
    }

    [Fact]
    public async Task A_header_claiming_ten_to_the_twelve_elements_is_refused_by_a_process_that_stays_under_1_GB()
    {
        string folder = TestData.TemporaryDirectory();
        string header = """{"images":{"dtype":"U8","shape":[1000000,1000,1000],"data_offsets":[0,64]},"labels":{"dtype":"I64","shape":[2],"data_offsets":[64,80]}}""";
        byte[] json = System.Text.Encoding.UTF8.GetBytes(header);
        File.WriteAllBytes(Path.Combine(folder, "train.safetensors"), [.. BitConverter.GetBytes((long)json.Length), .. json, .. new byte[80]]);
        string trial = Path.Combine(folder, "trial.yaml");
        File.WriteAllText(trial, "dataset: { train: train.safetensors, test: train.safetensors }\nmodel: resnet8\nepochs: 1\n");

        // The orchestrator runs as the only child of a Python process, whose getrusage reports the child's peak resident memory.
        var info = new System.Diagnostics.ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in new[] { "-c", "import resource, subprocess, sys; code = subprocess.run(sys.argv[1:], capture_output=True).returncode; " +
                                            "print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)",
                                            "dotnet", Path.Combine(AppContext.BaseDirectory, "orchestrator.dll"), "trial", trial })
            info.ArgumentList.Add(argument);
        using var python = System.Diagnostics.Process.Start(info)!;
        string[] result = (await python.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken)).Split(' ');
        await python.WaitForExitAsync(TestContext.Current.CancellationToken);
        int.Parse(result[0]).ShouldBe(2); // refused as bad input
        long peakKilobytes = long.Parse(result[1]);
        peakKilobytes.ShouldBeLessThan(1L << 20, $"peak resident memory {peakKilobytes / 1024} MB");

        var (_, _, stderr) = await OrchestratorProcess.RunAsync("trial", trial);
        stderr.ShouldContain("'images' (uint8 [1000000, 1000, 1000]) needs 1,000,000,000,000 bytes");
    }
}
