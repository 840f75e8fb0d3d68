using System.CommandLine;
using Orchestrator.Distillation;
using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.Commands;

/// <summary><c>orchestrator submit &lt;sweep.yaml&gt; --endpoint URL [--watch]</c>: hands a sweep to a running coordinator.</summary>
public static class SubmitCommand
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("sweep.yaml") { Description = "The sweep file (docs/sweep-file.md); paths in it are read by the coordinator." };
        var api = new ApiClientFlags();
        var watch = new Option<bool>("--watch") { Description = "Follow the sweep until it completes, then print its best recipe." };
        var command = new Command("submit", "Submit a sweep to a running coordinator (orchestrator serve); submitting it again resumes it.") { file, watch };
        api.AddTo(command);
        command.SetAction(async (parse, cancellation) =>
        {
            var sweep = parse.GetRequiredValue(file);
            if (!sweep.Exists) throw new UserInputException($"{sweep.FullName}: file not found.");
            using var client = api.Connect(parse);
            var request = new SubmitRequest { FileName = sweep.FullName, Content = Google.Protobuf.ByteString.CopyFrom(await File.ReadAllBytesAsync(sweep.FullName, cancellation)) };
            var submitted = await client.Call(options => client.Sweeps.SubmitAsync(request, options), cancellation);
            Console.WriteLine($"{submitted.SweepId}: submitted, {submitted.Jobs} job(s) ({submitted.Teachers} teacher(s), {submitted.SoftTargetJobs} soft-target job(s), " +
                              $"{submitted.Students} student trial(s), {submitted.Baselines} baseline(s)){(submitted.AlreadyDone > 0 ? $", {submitted.AlreadyDone} already finished" : "")}" +
                              $"{(submitted.PriorPoints > 0 ? $", starting from {submitted.PriorPoints} finished point(s) of its prior sweep(s)" : "")}; " +
                              $"the coordinator writes to {submitted.OutputDirectory}");
            return parse.GetValue(watch) ? await WatchCommand.FollowAsync(client, submitted.SweepId, cancellation) : CommandLineRunner.Ok;
        });
        return command;
    }
}
