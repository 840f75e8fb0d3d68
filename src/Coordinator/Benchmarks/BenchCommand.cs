using System.CommandLine;
using System.Diagnostics;
using Orchestrator.Coordinator.Commands;
using Orchestrator.Distillation.Data;
using Orchestrator.Distillation.Losses;
using Orchestrator.Distillation.Models;
using Orchestrator.Distillation.SoftTargets;
using Orchestrator.Distillation.Training;
using Orchestrator.Distillation.Trials;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Coordinator.Benchmarks;

/// <summary>
/// <c>orchestrator bench</c>: throughput of the distillation step the trainer runs (mlp-400 student forward/backward/
/// Adam step, CE + Hinton loss) with the teacher outputs computed online by one and by N frozen mlp-1200-1200
/// teachers, and read from cached soft targets by sample index; with <c>--packs</c>, the same step for packs of K
/// students trained as one (trials x samples/s, for mlp-400 and bncnn-student); and process memory over many steps of one
/// trial with online teachers and of a pack (<c>--memory-pack</c>) from cached soft targets. Inputs are random tensors of Fashion-MNIST's shape held on the device, so no dataset is needed.
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
        var memoryPack = new Option<int>("--memory-pack") { Description = "Also read memory over --memory-steps steps of a pack of this many students (0 or 1: one trial only).", DefaultValueFactory = _ => 8 };
        var packs = new Option<int[]>("--packs") { Description = "Pack sizes K to measure at the first batch size (students trained as one).", DefaultValueFactory = _ => [], AllowMultipleArgumentsPerToken = true };
        var zoo = new Option<bool>("--zoo") { Description = "Measure the KD benchmark zoo instead: resnet32x4 -> resnet8x4 and wrn-40-2 -> wrn-16-2 on CIFAR-100's shape (and --packs of resnet8)." };
        var losses = new Option<bool>("--losses") { Description = "Measure each loss term's KD step instead (resnet8 on CIFAR-100's shape from cached soft targets, at the first batch size, for --packs K; default K = 1 and 8)." };
        var command = new Command("bench", "[benchmark] Measure distillation-step throughput (samples/s), online teachers vs cached soft targets, and memory growth.")
        {
            device, batches, seconds, memorySteps, memoryPack, teachers, packs, zoo, losses,
        };
        command.SetAction(parse =>
        {
            int ensemble = parse.GetValue(teachers);
            if (ensemble < 1) throw new Distillation.UserInputException("--teachers must be at least 1.");
            var packSizes = parse.GetRequiredValue(packs);
            if (packSizes.Any(k => k < 1)) throw new Distillation.UserInputException("--packs: every pack size must be at least 1.");
            if (parse.GetValue(losses))
                RunLosses(Devices.Resolve(parse.GetRequiredValue(device)), parse.GetRequiredValue(batches)[0], parse.GetRequiredValue(seconds), packSizes.Length > 0 ? packSizes : [1, 8]);
            else if (parse.GetValue(zoo))
                RunZoo(Devices.Resolve(parse.GetRequiredValue(device)), parse.GetRequiredValue(batches), parse.GetRequiredValue(seconds), packSizes);
            else
                Run(Devices.Resolve(parse.GetRequiredValue(device)), parse.GetRequiredValue(batches), parse.GetRequiredValue(seconds), parse.GetRequiredValue(memorySteps),
                    parse.GetValue(memoryPack), ensemble, packSizes);
            return CommandLineRunner.Ok;
        });
        return command;
    }

    static readonly DatasetInfo Info = new("bench", 1, 28, 28, 10);
    const int PoolSize = 16_384;

    static void Run(Device device, int[] batchSizes, double seconds, int memorySteps, int memoryPack, int ensembleSize, int[] packSizes)
    {
        manual_seed(1);
        using var images = randn(PoolSize, 1, 28, 28, device: device);
        using var labels = randint(0, 10, PoolSize, device: device);
        using var one = Online(1, device);
        using var many = Online(ensembleSize, device);
        using var cached = new CachedTeacherOutputs([new TeacherView(randn(PoolSize, 10, device: device), null)], views: null);
        using var student = new BenchPack("mlp-400", 1, device);

        Console.WriteLine($"KD step -> mlp-400 (ce + hinton, Adam) on {device}, {Environment.ProcessorCount} cores, torch threads {get_num_threads()}; samples/s");
        Console.WriteLine($"| batch | online, 1 x mlp-1200-1200 | online, {ensembleSize} x mlp-1200-1200 | cached soft targets | cached / online {ensembleSize} |");
        Console.WriteLine("|---:|---:|---:|---:|---:|");
        foreach (int batch in batchSizes)
        {
            var rates = new ITeacherOutputs[] { one, many, cached }.Select(t => Measure(student.Step(t), images, labels, batch, seconds)).ToList();
            Console.WriteLine($"| {batch} | {rates[0]:N0} | {rates[1]:N0} | {rates[2]:N0} | {rates[2] / rates[1]:F1}x |");
        }

        if (packSizes.Length > 0)
        {
            int batch = batchSizes[0];
            Console.WriteLine();
            Console.WriteLine($"Packs of K students trained as one, batch {batch}: trials x samples/s (speed-up over K = 1)");
            Console.WriteLine($"| K | mlp-400, cached | mlp-400, online {ensembleSize} x mlp-1200-1200 | bncnn-student, cached |");
            Console.WriteLine("|---:|---:|---:|---:|");
            var columns = new (string Model, ITeacherOutputs Teacher)[] { ("mlp-400", cached), ("mlp-400", many), ("bncnn-student", cached) };
            var baseline = new double[columns.Length];
            foreach (int k in packSizes)
            {
                var cells = columns.Select((column, c) =>
                {
                    using var pack = new BenchPack(column.Model, k, device);
                    double rate = k * Measure(pack.Step(column.Teacher), images, labels, batch, seconds);
                    if (k == packSizes[0]) baseline[c] = rate / k;
                    return $"{rate:N0} ({rate / baseline[c]:F2}x)";
                }).ToList();
                Console.WriteLine($"| {k} | {string.Join(" | ", cells)} |");
            }
        }

        if (memorySteps <= 0) return;
        MeasureMemory("one trial", student.Step(many), images, labels, batchSizes[0], memorySteps);
        if (memoryPack <= 1) return;
        using var packed = new BenchPack("mlp-400", memoryPack, device);
        MeasureMemory($"a pack of {memoryPack} (cached soft targets)", packed.Step(cached), images, labels, batchSizes[0], memorySteps);
    }

    static readonly DatasetInfo Cifar100 = new("bench", 3, 32, 32, 100);

    /// <summary>The zoo pairs the KD literature reports most, with mdistiller's KD recipe (scripts/bench_zoo_pytorch.py runs the same step in PyTorch).</summary>
    static readonly (string Teacher, string Student)[] ZooPairs = [("resnet32x4", "resnet8x4"), ("wrn-40-2", "wrn-16-2")];
    static readonly OptimizerOptions Sgd = new("sgd", 0.05, Momentum: 0.9, WeightDecay: 5e-4);

    /// <summary>
    /// The zoo's KD step (a frozen teacher's forward in evaluation mode, then the student's forward, CE 0.1 + KD 0.9 at
    /// T = 4, backward and an SGD step) on random CIFAR-100-shaped batches; then packs of K resnet8 students from cached
    /// soft targets against K = 1.
    /// </summary>
    static void RunZoo(Device device, int[] batchSizes, double seconds, int[] packSizes)
    {
        manual_seed(1);
        using var images = randn(4096, 3, 32, 32, device: device);
        using var labels = randint(0, 100, 4096, device: device);
        Console.WriteLine($"KD step, zoo pairs (CIFAR-100 shape, ce 0.1 + hinton 0.9, T = 4, SGD) on {device}, {Environment.ProcessorCount} cores, torch threads {get_num_threads()}; samples/s");
        Console.WriteLine("| pair | batch | samples/s |");
        Console.WriteLine("|---|---:|---:|");
        foreach (var (teacherName, studentName) in ZooPairs)
        {
            var teacher = ModelRegistry.Create(new ModelSpec(teacherName), Cifar100).to(device);
            teacher.eval();
            using var online = new OnlineTeacherOutputs([teacher], new TeacherEnsemble([]), embeddings: false);
            using var student = new BenchPack(studentName, 1, device, Cifar100, Sgd, _ => Kd("hinton"));
            foreach (int batch in batchSizes)
                Console.WriteLine($"| {teacherName} -> {studentName} | {batch} | {Measure(student.Step(online), images, labels, batch, seconds):N0} |");
        }
        if (packSizes.Length == 0) return;
        int first = batchSizes[0];
        using var cached = new CachedTeacherOutputs([new TeacherView(randn(4096, 100, device: device), null)], views: null);
        Console.WriteLine();
        Console.WriteLine($"Packs of K resnet8 students trained as one from cached soft targets, batch {first}: trials x samples/s (speed-up over K = {packSizes[0]})");
        Console.WriteLine("| K | resnet8 |");
        Console.WriteLine("|---:|---:|");
        double baseline = 0;
        foreach (int k in packSizes)
        {
            using var pack = new BenchPack("resnet8", k, device, Cifar100, Sgd, _ => Kd("hinton"));
            double rate = k * Measure(pack.Step(cached), images, labels, first, seconds);
            if (k == packSizes[0]) baseline = rate / k;
            Console.WriteLine($"| {k} | {rate:N0} ({rate / baseline:F2}x) |");
        }
    }

    /// <summary>
    /// The recipes <c>bench --losses</c> compares, each CE 0.1 + the term 0.9 at T = 4 (DKD with mdistiller's alpha 1, beta 8);
    /// the feature losses at FitNets' one stage and at every stage (CRD's attention transfer).
    /// </summary>
    static readonly (string Name, LossRecipe Recipe)[] LossRecipes =
    [
        ("hinton", Kd("hinton")), ("hinton + standardize", Kd("hinton") with { Standardize = true }), ("dkd", Kd("dkd")), ("dist", Kd("dist")),
        ("dkd + standardize", Kd("dkd") with { Standardize = true }),
        ("hint (stage2)", Kd("hint") with { Stages = ["stage2"] }), ("at (stage1-3)", Kd("at") with { Stages = ["stage1", "stage2", "stage3"] }),
    ];

    static LossRecipe Kd(string term) => new(new Dictionary<string, double> { ["ce"] = 0.1, [term] = 0.9 }, 4, 1, RelationFeature.Logits);

    /// <summary>
    /// One KD step per loss recipe for resnet8 (CIFAR-100's shape, cached soft targets, SGD), as one trial and as packs of K
    /// trials: samples/s and the ratio to plain hinton's at the same K. The feature losses get a resnet32x4 teacher's
    /// feature maps of one batch, computed before the clock starts, as cached features would be: the student's side of the step.
    /// </summary>
    static void RunLosses(Device device, int batch, double seconds, int[] packSizes)
    {
        manual_seed(1);
        using var images = randn(4096, 3, 32, 32, device: device);
        using var labels = randint(0, 100, 4096, device: device);
        using var cached = new CachedTeacherOutputs([new TeacherView(randn(4096, 100, device: device), null)], views: null);
        Console.WriteLine($"KD step per loss, resnet8 (CIFAR-100 shape, cached soft targets, ce 0.1 + term 0.9, T = 4, SGD), batch {batch}, on {device}, " +
                          $"{Environment.ProcessorCount} cores, torch threads {get_num_threads()}; trials x samples/s (ratio to hinton at that K)");
        Console.WriteLine($"| loss | {string.Join(" | ", packSizes.Select(k => $"K = {k}"))} |");
        Console.WriteLine($"|---|{string.Concat(packSizes.Select(_ => "---:|"))}");
        // The first measurement of a process runs cold (allocator, thread pool, CPU clocks): warm up on the first recipe, unrecorded.
        using (var warmUp = new BenchPack("resnet8", 1, device, Cifar100, Sgd, _ => LossRecipes[0].Recipe)) Measure(warmUp.Step(cached), images, labels, batch, seconds);
        var hinton = new double[packSizes.Length];
        foreach (var (name, recipe) in LossRecipes)
        {
            var cells = packSizes.Select((k, c) =>
            {
                using var maps = recipe.NeedsFeatureMaps ? new TeacherMaps(cached, images.narrow(0, 0, batch), recipe.Stages!, device) : null;
                using var pack = new BenchPack("resnet8", k, device, Cifar100, Sgd, _ => recipe, maps is null ? null : maps.Hints);
                double rate = k * Measure(pack.Step(maps ?? (ITeacherOutputs)cached), images, labels, batch, seconds);
                if (name == "hinton") hinton[c] = rate;
                return $"{rate:N0} ({rate / hinton[c]:F2}x)";
            }).ToList();
            Console.WriteLine($"| {name} | {string.Join(" | ", cells)} |");
        }
    }

    /// <summary>Resident memory before and after <paramref name="steps"/> steps: flat when every step's tensors are freed in its scope.</summary>
    static void MeasureMemory(string what, DistillationStep step, Tensor images, Tensor labels, int batch, int steps)
    {
        RunSteps(step, images, labels, batch, steps: 10); // the optimizer's state and the allocator's first blocks
        long before = ResidentBytes();
        var clock = Stopwatch.StartNew();
        RunSteps(step, images, labels, batch, steps);
        long after = ResidentBytes();
        Console.WriteLine((
            $"memory, {what}: resident {before / 1048576.0:F0} MB before, {after / 1048576.0:F0} MB after {steps:N0} steps at batch {batch} " +
            $"(growth {(after - before) / 1048576.0:F1} MB, {clock.Elapsed.TotalSeconds:F0} s)"));
    }

    static OnlineTeacherOutputs Online(int count, Device device)
    {
        var teachers = Enumerable.Range(0, count).Select(_ => ModelRegistry.Create(new ModelSpec("mlp-1200-1200"), Info).to(device)).ToList();
        foreach (var teacher in teachers) teacher.eval();
        return new OnlineTeacherOutputs(teachers, new TeacherEnsemble([]), embeddings: false);
    }

    /// <summary>K students of one model as a pack, with its Adam optimizer and a CE + Hinton loss whose temperature differs per trial.</summary>
    sealed class BenchPack : IDisposable
    {
        readonly List<Classifier> members;
        readonly IStudentPack pack;
        readonly PackedOptimizer optimizer;
        readonly PackedLoss loss;

        /// <summary>Each trial at its own temperature (2..5), as a sweep's pack would be: CE 0.3 + Hinton 0.7, Adam.</summary>
        public BenchPack(string model, int k, Device device) : this(model, k, device, Info, new OptimizerOptions("adam"),
            t => new LossRecipe(new Dictionary<string, double> { ["ce"] = 0.3, ["hinton"] = 0.7 }, 2 + t % 4, 1, RelationFeature.Logits)) { }

        /// <param name="recipe">Trial t's loss.</param>
        /// <param name="hints">Gives each student its hint regressor when the loss has hints.</param>
        public BenchPack(string model, int k, Device device, DatasetInfo data, OptimizerOptions optimizerOptions, Func<int, LossRecipe> recipe,
            Func<Classifier, IReadOnlyList<string>, HintRegressor>? hints = null)
        {
            members = Enumerable.Range(0, k).Select(_ => ModelRegistry.Create(new ModelSpec(model), data)).ToList();
            if (recipe(0).HasHints)
                foreach (var member in members) member.AttachHint(hints!(member, recipe(0).Stages!));
            foreach (var member in members) member.to(device);
            pack = IStudentPack.Of(members, recipe(0).Stages); // as the trainer runs them: K = 1 alone, unfused
            optimizer = new PackedOptimizer(pack, members.Select(_ => optimizerOptions).ToList());
            loss = new PackedLoss(members.Select((_, t) => recipe(t)).ToList(), device);
        }

        public DistillationStep Step(ITeacherOutputs teacher) => new(pack, teacher, loss, optimizer, epoch: 0);

        public void Dispose()
        {
            loss.Dispose();
            optimizer.Dispose();
            pack.Dispose();
            foreach (var member in members) member.Dispose();
        }
    }

    /// <summary>
    /// Cached soft targets with a resnet32x4 teacher's feature maps at a recipe's stages for one batch of images, the same
    /// maps for every batch (the bench measures speed, not learning): the teacher's side of a feature loss, as cached
    /// features would give it.
    /// </summary>
    sealed class TeacherMaps : ITeacherOutputs
    {
        readonly CachedTeacherOutputs cached;
        readonly IReadOnlyList<Tensor> maps;
        readonly ProbeBatch probe;

        public TeacherMaps(CachedTeacherOutputs cached, Tensor batch, IReadOnlyList<string> stages, Device device)
        {
            this.cached = cached;
            using var teacher = ModelRegistry.Create(new ModelSpec("resnet32x4"), Cifar100).to(device);
            teacher.eval();
            using (no_grad()) maps = teacher.FeatureMaps(batch, stages).Maps.Select(m => m.detach()).ToList();
            probe = new ProbeBatch(batch);
        }

        public AugmentedViews? Views => null;

        public IReadOnlyList<TeacherView> For(Tensor images, Tensor indices, int epoch) => cached.For(images, indices, epoch).Select(v => v with { Maps = maps }).ToList();

        /// <summary>A student's hint regressor to the teacher's channels at <paramref name="stages"/>, the ones the maps are of.</summary>
        public HintRegressor Hints(Classifier student, IReadOnlyList<string> stages) => probe.HintRegressor(student, stages, maps.Select(m => m.shape[1]).ToList());

        public void Dispose()
        {
            foreach (var map in maps) map.Dispose();
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
            if (i == steps - 1) last = result.Total.sum().item<float>();
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
