using System.CommandLine;
using Orchestrator.Distillation;
using Orchestrator.Distillation.Configuration;
using Orchestrator.Distillation.SoftTargets;
using Orchestrator.Distillation.Training;
using Orchestrator.Distillation.Trials;
using Proto = Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.Commands;

/// <summary><c>orchestrator trial &lt;trial.yaml&gt;</c>: one training run, no cluster.</summary>
public static class TrialCommand
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("trial.yaml") { Description = "The trial file (docs/trial-file.md)." };
        var output = new Option<DirectoryInfo?>("--out") { Description = "Output folder (checkpoints, metrics.jsonl, summary.json); default runs/<name>. An existing run there is resumed." };
        var device = new Option<string?>("--device") { Description = "auto | cpu | cuda | cuda:N (overrides the file)." };
        var dataDir = new Option<DirectoryInfo?>("--data-dir") { Description = $"Root folder of datasets (overrides the file and ${Distillation.Data.DataOptions.DataDirVariable})." };
        var teacher = new Option<FileInfo?>("--teacher") { Description = "Teacher checkpoint (overrides the file's checkpoint(s); keeps its other teacher settings)." };
        var softTargets = LocalCommand.SoftTargetStoreOption();
        var seed = new Option<int?>("--seed") { Description = "Seed for initialisation, shuffling and dropout (overrides the file)." };
        var epochs = new Option<int?>("--epochs") { Description = "Number of epochs (overrides the file)." };
        var name = new Option<string?>("--name") { Description = "Trial name, used in reports and the default output folder (overrides the file)." };
        var command = new Command("trial", "Train a teacher, or distil a student from a teacher checkpoint, as described by a trial file.")
        {
            file, output, device, dataDir, teacher, seed, epochs, name, softTargets,
        };
        command.SetAction((parse, cancellation) =>
        {
            var config = TrialConfig.Load(parse.GetRequiredValue(file).FullName, warning => Console.Error.WriteLine($"warning: {warning}"));
            config = config with
            {
                Name = parse.GetValue(name) ?? config.Name,
                Device = parse.GetValue(device) ?? config.Device,
                Data = config.Data with { DataDir = parse.GetValue(dataDir)?.FullName ?? config.Data.DataDir },
                Teacher = parse.GetValue(teacher) is { } checkpoint
                    ? (config.Teacher ?? TeacherEnsemble.Single(checkpoint.FullName)) with { Members = [new TeacherSource(checkpoint.FullName)] }
                    : config.Teacher,
                Training = config.Training with
                {
                    Seed = parse.GetValue(seed) ?? config.Training.Seed,
                    Epochs = parse.GetValue(epochs) ?? config.Training.Epochs,
                },
            };
            string outputDirectory = parse.GetValue(output)?.FullName ?? Path.Combine("runs", config.Name);
            string store = parse.GetRequiredValue(softTargets).FullName;
            return Task.Run(() => Run(config, outputDirectory, store, cancellation), cancellation);
        });
        return command;
    }

    static int Run(TrialConfig config, string outputDirectory, string softTargetStore, CancellationToken cancellation)
    {
        Console.WriteLine($"trial {config.Name} -> {outputDirectory}");
        var summary = TrialExecution.Run(config, outputDirectory, m => Console.WriteLine(Format(m, config.Training.Epochs)),
            line => Console.WriteLine($"  {line}"), cancellation, softTargetStore);
        Console.WriteLine(Describe(summary, outputDirectory));
        return summary.Status switch
        {
            Proto.TrialStatus.Failed => CommandLineRunner.TrialFailed,
            Proto.TrialStatus.Cancelled => CommandLineRunner.Cancelled,
            _ => CommandLineRunner.Ok,
        };
    }

    static string Format(EpochMetrics m, int epochs)
    {
        var terms = m.LossTerms.Count > 1 ? $" ({string.Join(", ", m.LossTerms.Select(t => $"{t.Key} {t.Value:F4}"))})" : "";
        return $"epoch {m.Epoch,3}/{epochs}  lr {m.LearningRate:G3}  loss {m.TrainLoss:F4}{terms}  train {m.TrainAccuracy:P2}  val {m.ValidationAccuracy:P2}  {m.SamplesPerSecond:N0} samples/s  {m.Seconds:F1}s";
    }

    static string Describe(Proto.TrialSummary s, string outputDirectory) => s.Status switch
    {
        Proto.TrialStatus.Failed => $"trial FAILED: {s.FailureReason}",
        Proto.TrialStatus.Cancelled => $"trial cancelled after {s.EpochsRun} epoch(s); run the same command again to resume.",
        _ => $"best validation accuracy {s.BestValidationAccuracy:P2} at epoch {s.BestEpoch}{(s.Status == Proto.TrialStatus.EarlyStopped ? " (stopped early)" : "")}; " +
            $"test accuracy of that checkpoint {s.TestAccuracy:P2}" +
            (s.HasTeacherTestAccuracy ? $" (teacher {s.TeacherTestAccuracy:P2})" : "") +
            $"\nwrote {Path.Combine(outputDirectory, TrialFolder.SummaryFile)}, {TrialFolder.MetricsFile}, {TrialFolder.BestCheckpointFile}",
    };
}
