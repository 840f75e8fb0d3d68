using System.CommandLine;
using Orchestrator.Distillation;
using Orchestrator.Distillation.Models;
using Orchestrator.Distillation.Training;
using Orchestrator.Distillation.Trials;

namespace Orchestrator.Coordinator.Commands;

/// <summary>
/// <c>orchestrator export &lt;trial folder&gt; --format safetensors --out DIR</c>: the trial's best checkpoint (the
/// epoch chosen on validation) as model.safetensors and model.json, and a TorchScript student as model.pt too, for PyTorch (docs/export.md).
/// </summary>
public static class ExportCommand
{
    public static Command Create()
    {
        var trial = new Argument<DirectoryInfo>("trial folder") { Description = "A trial's output folder (it holds best.ckpt): runs/<name>, or a sweep's trials/<job>." };
        var format = new Option<string>("--format") { Description = "safetensors: the weights as PyTorch's state_dict names them, and model.json.", DefaultValueFactory = _ => "safetensors" };
        var output = new Option<DirectoryInfo>("--out") { Description = "Folder to write model.safetensors and model.json into.", Required = true };
        var command = new Command("export", "Export a trial's best checkpoint for PyTorch: model.safetensors and model.json.") { trial, format, output };
        command.SetAction(parse =>
        {
            if (parse.GetValue(format) is var name && name != "safetensors")
                throw new UserInputException($"--format {name}: the only export format is safetensors.");
            var folder = parse.GetRequiredValue(trial);
            string checkpoint = Path.Combine(folder.FullName, TrialFolder.BestCheckpointFile);
            if (!File.Exists(checkpoint))
                throw new UserInputException($"{folder.FullName} holds no {TrialFolder.BestCheckpointFile}: give a trial's output folder (runs/<name>, or a sweep's trials/<job>) after its first epoch.");
            string directory = parse.GetRequiredValue(output).FullName;
            var exported = ModelExport.Export(checkpoint, directory);
            var files = new[] { ModelExport.WeightsFile, ModelExport.ModelFile, exported.TorchScript }.OfType<string>().Select(f => Path.Combine(directory, f));
            Console.WriteLine($"{exported.Architecture} (epoch {exported.BestEpoch}, val {exported.BestValidationAccuracy:P2}) -> {string.Join(", ", files)}");
            Console.WriteLine($"in PyTorch: sys.path.append(\"examples/pytorch\"); model, normalize = orchestrator_model.load(\"{directory}\")  (docs/export.md)");
            return CommandLineRunner.Ok;
        });
        return command;
    }
}
