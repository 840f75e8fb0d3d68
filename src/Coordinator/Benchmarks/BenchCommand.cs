using System.CommandLine;
using System.Diagnostics;
using Orchestrator.Coordinator.Commands;
using Orchestrator.Distillation.Data;
using Orchestrator.Distillation.Losses;
using Orchestrator.Distillation.Models;
using Orchestrator.Distillation.SoftTargets;
using Orchestrator.Distillation.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Coordinator.Benchmarks;

/// <summary>
/// <c>orchestrator bench</c>: throughput of the distillation step the trainer runs (mlp-400 student forward/backward/
/// Adam step, CE + Hinton loss) with the teacher outputs computed online by one and by N frozen mlp-1200-1200
/// teachers, and read from cached soft targets by sample index; and process memory over many online steps.
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
        var teachers = new Option<int>("--teachers") { Description = "Ensemble size of the second online column.", DefaultValueFactory = _ => 3 };
        var command = new Command("bench", "Measure distillation-step throughput (samples/s), online teachers vs cached soft targets, and memory growth.")
        {
            device, batches, seconds, memorySteps, teachers,
        };
        command.SetAction(parse =>
        {
            int ensemble = parse.GetValue(teachers);
            if (ensemble < 1) throw new Distillation.UserInputException("--teachers must be at least 1.");
            Run(Devices.Resolve(parse.GetRequiredValue(device)), parse.GetRequiredValue(batches), parse.GetRequiredValue(seconds), parse.GetRequiredValue(memorySteps), ensemble);
            return CommandLineRunner.Ok;
        });
        return command;
    }

    static void Run(Device device, int[] batchSizes, double seconds, int memorySteps, int ensembleSize)
    {
        var info = new DatasetInfo("bench", 1, 28, 28, 10);
        manual_seed(1);
        var loss = new LossRecipe(new Dictionary<string, double> { ["ce"] = 0.3, ["hinton"] = 0.7 }, 4, 1, RelationFeature.Logits);
        using var student = ModelRegistry.Create(new ModelSpec("mlp-400"), info).to(device);
        using var optimizer = Optimizers.Create(new OptimizerOptions("adam"), student.parameters());
        const int poolSize = 16_384;
        using var images = randn(poolSize, 1, 28, 28, device: device);
        using var labels = randint(0, 10, poolSize, device: device);
        using var one = Online(1);
        using var many = Online(ensembleSize);
        using var cached = new CachedTeacherOutputs([new TeacherView(randn(poolSize, 10, device: device), null)]);
        var steps = new[] { one, many, (ITeacherOutputs)cached }.Select(t => new DistillationStep(student, t, loss, optimizer)).ToList();

        Console.WriteLine($"KD step -> mlp-400 (ce + hinton, Adam) on {device}, {Environment.ProcessorCount} cores, torch threads {get_num_threads()}; samples/s");
        Console.WriteLine($"| batch | online, 1 x mlp-1200-1200 | online, {ensembleSize} x mlp-1200-1200 | cached soft targets | cached / online {ensembleSize} |");
        Console.WriteLine("|---:|---:|---:|---:|---:|");
        foreach (int batch in batchSizes)
        {
            var rates = steps.Select(step => Measure(step, images, labels, batch, seconds)).ToList();
            Console.WriteLine($"| {batch} | {rates[0]:N0} | {rates[1]:N0} | {rates[2]:N0} | {rates[2] / rates[1]:F1}x |");
        }
        var step = steps[1];

        if (memorySteps <= 0) return;
        long before = ResidentBytes();
        var memoryClock = Stopwatch.StartNew();
        RunSteps(step, images, labels, batchSizes[0], memorySteps);
        long after = ResidentBytes();
        Console.WriteLine((
            $"memory: resident {before / 1048576.0:F0} MB before, {after / 1048576.0:F0} MB after {memorySteps:N0} steps at batch {batchSizes[0]} " +
            $"(growth {(after - before) / 1048576.0:F1} MB, {memoryClock.Elapsed.TotalSeconds:F0} s)"));

        OnlineTeacherOutputs Online(int count)
        {
            var teachers = Enumerable.Range(0, count).Select(_ => ModelRegistry.Create(new ModelSpec("mlp-1200-1200"), info).to(device)).ToList();
            foreach (var teacher in teachers) teacher.eval();
            return new OnlineTeacherOutputs(teachers, new TeacherEnsemble([]), embeddings: false);
        }
    }

    /// <summary>Samples per second of <paramref name="step"/> over at least <paramref name="seconds"/>, after a warm-up.</summary>
    static double Measure(DistillationStep step, Tensor images, Tensor labels, int batch, double seconds)
    {
        RunSteps(step, images, labels, batch, steps: 10);
        var clock = Stopwatch.StartNew();
        long steps = 0;
        while (clock.Elapsed.TotalSeconds < seconds || steps < 10)
            steps += RunSteps(step, images, labels, batch, steps: 10);
        return steps * batch / clock.Elapsed.TotalSeconds;
    }

    /// <summary>Runs steps on random batches from the pool; reading the last loss waits for queued GPU work.</summary>
    static int RunSteps(DistillationStep step, Tensor images, Tensor labels, int batch, int steps)
    {
        float last = 0;
        for (int i = 0; i < steps; i++)
        {
            using var scope = NewDisposeScope();
            var index = randint(0, images.shape[0], batch, device: images.device);
            var result = step.Run(images.index_select(0, index), labels.index_select(0, index), index);
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
