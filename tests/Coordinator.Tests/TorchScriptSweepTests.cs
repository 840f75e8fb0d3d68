using Orchestrator.Coordinator.Planning;
using Orchestrator.Distillation;
using Orchestrator.Protocol.V1;
using Orchestrator.Tests;
using Shouldly;

namespace Orchestrator.Coordinator.Tests;

/// <summary>
/// Sweeps with PyTorch models: a TorchScript teacher (made by tests/Distillation.Tests/python/torchscript_teacher.py)
/// distilled into mlp-400, and into a TorchScript student (python/torchscript_student.py).
/// </summary>
public sealed class TorchScriptSweepTests
{
    static readonly Lazy<string> Scripts = new(() =>
    {
        string directory = TestData.TemporaryDirectory();
        PyTorch.Run("tests/Distillation.Tests/python/torchscript_teacher.py", Path.GetDirectoryName(TestData.FashionMnistDirectory)!, directory);
        return directory;
    });

    static readonly Lazy<string> Students = new(() =>
    {
        string directory = TestData.TemporaryDirectory();
        PyTorch.Run("tests/Distillation.Tests/python/torchscript_student.py", directory);
        return directory;
    });

    static string Sweep(string teacher) => $"""
        name: pytorch-teacher
        dataset: {"{"} name: fashion-mnist, validation: 5000 {"}"}
        teacher: {teacher}
        student: {"{"} model: mlp-400, epochs: 5, loss: {"{"} terms: [ce, hinton], alpha: 0.7, temperature: 4 {"}"} {"}"}
        parameters:
          temperature: {"{"} values: [2, 4] {"}"}
        seeds: [1]
        """;

    static SweepPlan Plan(string yaml) => SweepPlanner.Plan(SweepFile.Load(TestData.WriteFile("sweep.yaml", yaml)), TestData.TemporaryDirectory());

    [Fact]
    public void A_torchscript_teacher_needs_no_teacher_job_and_its_soft_targets_wait_for_nothing()
    {
        string teacher = Path.Combine(Scripts.Value, "teacher.pt");
        var plan = Plan(Sweep($"{{ torchscript: {teacher}, normalize: {{ mean: [0.5], std: [0.5] }} }}"));
        plan.Teachers.ShouldBeEmpty();
        plan.Jobs.Where(j => j.Kind == JobKind.SoftTargetShard).ShouldAllBe(j => j.DependsOn.Count == 0);
        var ensemble = plan.Jobs.Single(j => j.Kind == JobKind.SoftTargets).SoftTargets!.Teachers;
        ensemble.Members.Single().TorchScript!.Mean.ShouldBe([0.5f]);
        plan.Students.Count.ShouldBe(2);
        plan.Baselines.Count.ShouldBe(1);
        // Fed another normalisation it is another teacher: other soft targets, other trials.
        var other = Plan(Sweep($"{{ torchscript: {teacher}, normalize: {{ mean: [0.2860], std: [0.3530] }} }}"));
        other.Students.Select(s => s.Id).Intersect(plan.Students.Select(s => s.Id)).ShouldBeEmpty();
    }

    [Fact]
    public async Task A_local_sweep_distils_the_pytorch_teacher_into_mlp_400()
    {
        string directory = TestData.TemporaryDirectory(), teacher = Path.Combine(Scripts.Value, "teacher.pt");
        string sweep = TestData.WriteFile("sweep.yaml", Sweep($"{{ torchscript: {teacher}, normalize: {{ mean: [0.5], std: [0.5] }} }}")
            .Replace("validation: 5000", $"validation: 400, data_dir: {TestData.FashionMnistSubset(train: 2000, test: 500)}").Replace("epochs: 5", "epochs: 2"));
        var (code, output, error) = await OrchestratorProcess.RunAsync("local", sweep, "--out", directory, "--soft-targets", Path.Combine(directory, "store"));
        code.ShouldBe(0, output + error);
        var rows = File.ReadAllLines(Path.Combine(directory, "results.csv")).Skip(1).Select(l => l.Split(',')).ToList();
        rows.ShouldAllBe(r => r[2] == "done");
        rows.Count(r => r[1] == "student").ShouldBe(2);
        output.ShouldContain($"soft targets soft-targets-"); // made by the generation jobs, from the TorchScript file
        output.ShouldContain($"of one teacher ({teacher})");
    }

    [Fact]
    public void A_list_of_teachers_mixes_a_torchscript_teacher_with_one_trained_in_the_sweep()
    {
        string teacher = Path.Combine(Scripts.Value, "teacher.pt");
        var plan = Plan(Sweep($"\n  - {{ torchscript: {teacher}, normalize: {{ mean: [0.5], std: [0.5] }} }}\n  - {{ model: mlp-64, epochs: 1 }}"));
        plan.Teachers.Count.ShouldBe(1);
        var members = plan.Jobs.Single(j => j.Kind == JobKind.SoftTargets).SoftTargets!.Teachers.Members;
        members.Select(m => m.TorchScript is not null).ShouldBe([true, false]);
        plan.Jobs.Where(j => j.Kind == JobKind.SoftTargetShard).Count(j => j.DependsOn.Count == 0).ShouldBe(Distillation.SoftTargets.SoftTargetSettings.DefaultShards); // the PyTorch teacher's shards wait for nothing
    }

    [Fact]
    public void A_teacher_with_the_wrong_class_count_is_refused_at_its_line_before_any_job()
    {
        string five = Path.Combine(Scripts.Value, "five-classes.pt");
        Should.Throw<UserInputException>(() => Plan(Sweep($"{{ torchscript: {five}, normalize: {{ mean: [0.5], std: [0.5] }} }}")))
            .Message.ShouldContain($"sweep.yaml:3:25: teacher.torchscript: {five} returns 5 logits per image; fashion-mnist has 10 classes.");
    }

    [Fact]
    public async Task A_local_sweep_trains_torchscript_students_each_alone_whatever_the_pack_with_the_same_ids_when_planned_again()
    {
        string directory = TestData.TemporaryDirectory(), teacher = Path.Combine(Scripts.Value, "teacher.pt"), student = Path.Combine(Students.Value, "student.pt");
        string yaml = Sweep($"{{ torchscript: {teacher}, normalize: {{ mean: [0.5], std: [0.5] }} }}")
            .Replace("validation: 5000", $"validation: 400, data_dir: {TestData.FashionMnistSubset(train: 2000, test: 500)}")
            .Replace("model: mlp-400, epochs: 5", $"model: {{ torchscript: {student} }}, epochs: 1, optimizer: {{ name: sgd, lr: 0.05 }}")
            + "\nexecution: { pack: 4 }";
        var plan = Plan(yaml);
        plan.Students.Count.ShouldBe(2);
        Plan(yaml).Jobs.Select(j => j.Id).ShouldBe(plan.Jobs.Select(j => j.Id)); // the same sweep, the same trials
        var (code, output, error) = await OrchestratorProcess.RunAsync("local", TestData.WriteFile("sweep.yaml", yaml), "--out", directory, "--soft-targets", Path.Combine(directory, "store"));
        code.ShouldBe(0, output + error);
        var lines = File.ReadAllLines(Path.Combine(directory, "results.csv"));
        int pack = lines[0].Split(',').ToList().IndexOf("pack");
        var rows = lines.Skip(1).Select(l => l.Split(',')).ToList();
        rows.ShouldAllBe(r => r[2] == "done");
        rows.Count(r => r[1] == "student").ShouldBe(2);
        rows.Count(r => r[1] == "baseline").ShouldBe(1);
        rows.ShouldAllBe(r => r[pack] == ""); // three trials of one pack key, each trained alone
    }

    [Fact]
    public async Task A_torchscript_student_killed_mid_trial_resumes_to_the_uninterrupted_result_and_exports_as_torchscript()
    {
        string data = TestData.FashionMnistSubset(train: 2400, test: 400), student = Path.Combine(Students.Value, "student.pt");
        string trial = TestData.WriteFile("trial.yaml", $"""
            dataset: {"{"} name: fashion-mnist, validation: 400 {"}"}
            model: {"{"} torchscript: {student} {"}"}
            epochs: 5
            batch_size: 16
            optimizer: {"{"} name: sgd, lr: 0.02, momentum: 0.9 {"}"}
            seed: 3
            device: cpu
            """);
        string whole = TestData.TemporaryDirectory(), killed = TestData.TemporaryDirectory(), metrics = Path.Combine(killed, "metrics.jsonl");
        (await OrchestratorProcess.RunAsync("trial", trial, "--data-dir", data, "--out", whole)).ExitCode.ShouldBe(0);
        using (var running = OrchestratorProcess.Start("trial", trial, "--data-dir", data, "--out", killed))
        {
            var deadline = DateTime.UtcNow.AddMinutes(3);
            while (!(File.Exists(metrics) && File.ReadAllLines(metrics).Length >= 1) && DateTime.UtcNow < deadline && !running.HasExited)
                await Task.Delay(50, TestContext.Current.CancellationToken);
            running.HasExited.ShouldBeFalse("the trial finished before it could be killed; make it longer");
            running.Kill(); // SIGKILL mid-epoch: no chance to clean up
            await running.WaitForExitAsync(TestContext.Current.CancellationToken);
        }
        File.ReadAllLines(metrics).Length.ShouldBeLessThan(5);
        var (code, stdout, stderr) = await OrchestratorProcess.RunAsync("trial", trial, "--data-dir", data, "--out", killed);
        code.ShouldBe(0, stderr);
        stdout.ShouldContain("resuming from");
        // The same epochs to the last digit: the script's weights, BatchNorm statistics and momentum came back from last.ckpt.
        static string[] Measured(string folder) => File.ReadAllLines(Path.Combine(folder, "metrics.jsonl"))
            .Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement).Select(e => $"{e.GetProperty("epoch")} {e.GetProperty("train_loss")} {e.GetProperty("validation_accuracy")}").ToArray();
        Measured(killed).ShouldBe(Measured(whole));
        Directory.GetFiles(killed, "*.tmp", SearchOption.AllDirectories).ShouldBeEmpty();

        string export = TestData.TemporaryDirectory();
        (code, stdout, stderr) = await OrchestratorProcess.RunAsync("export", killed, "--out", export);
        code.ShouldBe(0, stderr);
        stdout.ShouldContain(Path.Combine(export, "model.pt"));
        File.Exists(Path.Combine(export, "model.pt")).ShouldBeTrue();
    }
}
