using System.CommandLine;
using System.Diagnostics;
using Orchestrator.Distillation.Data;
using Orchestrator.Distillation.Losses;
using Orchestrator.Distillation.Models;
using Orchestrator.Distillation.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Coordinator.Commands;

/// <summary>
/// <c>orchestrator bench</c>: throughput of the distillation step the trainer runs (frozen mlp-1200-1200 teacher
/// forward + mlp-400 student forward/backward/Adam step, CE + Hinton loss) and process memory over many steps.
/// Inputs are random tensors of Fashion-MNIST's shape held on the device, so no dataset is needed.
/// </summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var device = new Option<string>("--device") { Description = "auto | cpu | cuda | cuda:N", DefaultValueFactory = _ => "cpu" };
        var batches = new Option<int[]>("--batch-sizes") { Description = "Batch sizes to measure.", DefaultValueFactory = _ => [256, 1024, 4096], AllowMultipleArgumentsPerToken = true };
        var seconds = new Option<double>("--seconds") { Description = "Measuring time per batch size.", DefaultValueFactory = _ => 5 };
        var memorySteps = new Option<int>("--memory-steps") { Description = "Steps at the first batch size between the two memory readings (0: skip).", DefaultValueFactory = _ => 10_000 };
        var command = new Command("bench", "Measure distillation-step throughput (samples/s) and memory growth.") { device, batches, seconds, memorySteps };
        command.SetAction(parse =>
        {
            Run(Devices.Resolve(parse.GetRequiredValue(device)), parse.GetRequiredValue(batches), parse.GetRequiredValue(seconds), parse.GetRequiredValue(memorySteps));
            return CommandLineRunner.Ok;
        });
        return command;
    }

    static void Run(Device device, int[] batchSizes, double seconds, int memorySteps)
    {
        var info = new DatasetInfo("bench", 1, 28, 28, 10);
        manual_seed(1);
        using var teacher = ModelRegistry.Create(new ModelSpec("mlp-1200-1200"), info).to(device);
        teacher.eval();
        using var student = ModelRegistry.Create(new ModelSpec("mlp-400"), info).to(device);
        var loss = new LossRecipe(new Dictionary<string, double> { ["ce"] = 0.3, ["hinton"] = 0.7 }, 4, 1, RelationFeature.Logits);
        using var optimizer = Optimizers.Create(new OptimizerOptions("adam"), student.parameters());
        var step = new DistillationStep(student, teacher, loss, optimizer);
        const int poolSize = 16_384;
        using var images = randn(poolSize, 1, 28, 28, device: device);
        using var labels = randint(0, 10, poolSize, device: device);

        Console.WriteLine(($"KD step mlp-1200-1200 -> mlp-400 (ce + hinton, Adam) on {device}, {Environment.ProcessorCount} cores, torch threads {get_num_threads()}"));
        Console.WriteLine("| batch | steps | samples/s |");
        Console.WriteLine("|---:|---:|---:|");
        foreach (int batch in batchSizes)
        {
            RunSteps(step, images, labels, batch, steps: 10);
            var clock = Stopwatch.StartNew();
            long steps = 0;
            while (clock.Elapsed.TotalSeconds < seconds || steps < 10)
                steps += RunSteps(step, images, labels, batch, steps: 10);
            Console.WriteLine(($"| {batch} | {steps} | {steps * batch / clock.Elapsed.TotalSeconds:N0} |"));
        }

        if (memorySteps <= 0) return;
        long before = ResidentBytes();
        var memoryClock = Stopwatch.StartNew();
        RunSteps(step, images, labels, batchSizes[0], memorySteps);
        long after = ResidentBytes();
        Console.WriteLine((
            $"memory: resident {before / 1048576.0:F0} MB before, {after / 1048576.0:F0} MB after {memorySteps:N0} steps at batch {batchSizes[0]} " +
            $"(growth {(after - before) / 1048576.0:F1} MB, {memoryClock.Elapsed.TotalSeconds:F0} s)"));
    }

    /// <summary>Runs steps on random batches from the pool; reading the last loss waits for queued GPU work.</summary>
    static int RunSteps(DistillationStep step, Tensor images, Tensor labels, int batch, int steps)
    {
        float last = 0;
        for (int i = 0; i < steps; i++)
        {
            using var scope = NewDisposeScope();
            var index = randint(0, images.shape[0], batch, device: images.device);
            var result = step.Run(images.index_select(0, index), labels.index_select(0, index));
            if (i == steps - 1) last = result.Total.item<float>();
        }
        return float.IsFinite(last) ? steps : throw new InvalidOperationException("benchmark loss is not finite");
    }

    static long ResidentBytes()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        using var process = Process.GetCurrentProcess();
        return process.WorkingSet64;
    }
}
