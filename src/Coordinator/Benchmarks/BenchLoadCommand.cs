using System.CommandLine;
using System.Diagnostics;
using Orchestrator.Coordinator.Commands;
using Orchestrator.Distillation.Configuration;
using Orchestrator.Distillation.Data;
using static TorchSharp.torch;

namespace Orchestrator.Coordinator.Benchmarks;

/// <summary>
/// <c>orchestrator bench-load &lt;trial.yaml&gt;</c>: how long loading the trial's dataset takes, and how much memory it
/// holds at its peak against the size of the tensors it ends up as (train, validation and test images as float32 and
/// their labels): a tensor-file dataset is read chunk by chunk straight into the split's tensors, so the ratio stays near 1.
/// </summary>
public static class BenchLoadCommand
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("trial.yaml") { Description = "A trial file whose dataset to load." };
        var command = new Command("bench-load", "[benchmark] Measure a dataset's load: seconds, and peak memory against its tensors' size.") { file };
        command.SetAction(parse =>
        {
            var config = TrialConfig.Load(parse.GetRequiredValue(file).FullName);
            long before = Status("VmRSS");
            var clock = Stopwatch.StartNew();
            using var data = DistillationData.Load(config.Data, CPU);
            double seconds = clock.Elapsed.TotalSeconds;
            long peak = Status("VmHWM");
            long tensors = new[] { data.Train, data.Validation, data.Test }.Sum(s => s.Images.NumberOfElements * 4 + s.Labels.NumberOfElements * 8);
            Console.WriteLine($"{config.Data.Name}: {data.Train.Count:N0} train, {data.Validation.Count:N0} validation, {data.Test.Count:N0} test samples of " +
                              $"{data.Info.Channels}x{data.Info.Height}x{data.Info.Width} loaded in {seconds:F1} s");
            Console.WriteLine($"tensors {tensors / 1e6:N0} MB; resident memory {before / 1e6:N0} MB before, peak {peak / 1e6:N0} MB: " +
                              $"the load held at most {(peak - before) / (double)tensors:F2}x its tensors' size");
            return CommandLineRunner.Ok;
        });
        return command;
    }

    /// <summary>A field of /proc/self/status in bytes (VmRSS: resident now; VmHWM: the most resident so far).</summary>
    static long Status(string field)
    {
        GC.Collect();
        string line = File.ReadLines("/proc/self/status").First(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
    }
}
