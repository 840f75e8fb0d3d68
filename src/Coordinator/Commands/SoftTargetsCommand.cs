using System.CommandLine;
using System.Globalization;
using Orchestrator.Distillation;
using Orchestrator.Distillation.SoftTargets;
using static TorchSharp.torch;

namespace Orchestrator.Coordinator.Commands;

/// <summary>
/// <c>orchestrator soft-targets</c>: what the soft-target store holds (one row per artifact, from its manifest),
/// and with --verify, a full check of every file (length, key, checksum) without changing anything.
/// </summary>
public static class SoftTargetsCommand
{
    public static Command Create()
    {
        var store = LocalCommand.SoftTargetStoreOption();
        var verify = new Option<bool>("--verify") { Description = "Read every artifact and part in full and check its length, key and checksum." };
        var command = new Command("soft-targets", "List the soft-target store's artifacts (teachers, aggregation, accuracy); --verify checks every file.") { store, verify };
        command.SetAction(parse =>
        {
            var directory = parse.GetRequiredValue(store);
            if (!directory.Exists) throw new UserInputException($"{directory.FullName}: no soft-target store here yet (it is created by the first cached student or sweep).");
            return List(new SoftTargetStore(directory.FullName), parse.GetValue(verify));
        });
        return command;
    }

    static int List(SoftTargetStore store, bool verify)
    {
        var artifacts = Directory.GetFiles(store.Directory, "*.soft").Order(StringComparer.Ordinal).ToList();
        var parts = Directory.Exists(Path.Combine(store.Directory, "parts"))
            ? Directory.GetFiles(Path.Combine(store.Directory, "parts"), "*.part").Order(StringComparer.Ordinal).ToList()
            : [];
        long bytes = artifacts.Concat(parts).Sum(f => new FileInfo(f).Length);
        Console.WriteLine($"{store.Directory}: {artifacts.Count} artifact(s), {parts.Count} generation part(s), {bytes / 1048576.0:F1} MB");
        Console.WriteLine("| key | teachers | aggregation | dtype | embeddings | train | validation | MB | ensemble val | ensemble test | created |");
        Console.WriteLine("|---|---:|---|---|---|---:|---:|---:|---:|---:|---|");
        foreach (string file in artifacts)
        {
            try
            {
                var m = SoftTargetFile.ReadManifest(file);
                string aggregation = m.Inputs["aggregation"] + (m.Inputs["temperature"] is "-" ? "" : $" (T={m.Inputs["temperature"]})");
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {m.Key} | {m.Teachers?.Count} | {aggregation} | {m.Inputs["dtype"]} | {m.Inputs["embeddings"]} | {m.Samples["train"]} | {m.Samples["validation"]} " +
                    $"| {new FileInfo(file).Length / 1048576.0:F1} | {m.Ensemble?.Validation:P2} | {m.Ensemble?.Test:P2} | {m.Created:yyyy-MM-dd HH:mm} |"));
            }
            catch (SoftTargetFileRejected rejected)
            {
                Console.WriteLine($"| {Path.GetFileNameWithoutExtension(file)} | unreadable: {rejected.Reason} |");
            }
        }
        if (!verify) return CommandLineRunner.Ok;

        int bad = 0;
        foreach (string file in artifacts.Concat(parts))
        {
            try
            {
                var (_, tensors) = SoftTargetFile.Read(file, Path.GetFileNameWithoutExtension(file), CPU);
                foreach (var tensor in tensors.Values) tensor.Dispose();
            }
            catch (SoftTargetFileRejected rejected)
            {
                bad++;
                Console.WriteLine($"BAD {rejected.Message}");
            }
        }
        Console.WriteLine(bad == 0
            ? $"verified {artifacts.Count + parts.Count} file(s): all intact"
            : $"{bad} of {artifacts.Count + parts.Count} file(s) failed; they will be set aside and generated again when next needed (or delete them).");
        return bad == 0 ? CommandLineRunner.Ok : CommandLineRunner.TrialFailed;
    }
}
