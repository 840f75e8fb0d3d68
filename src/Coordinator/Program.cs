using System.CommandLine;
using Orchestrator.Coordinator.Commands;

var root = new RootCommand("orchestrator: knowledge-distillation experiments on TorchSharp (CPU or CUDA)")
{
    TrialCommand.Create(),
    BenchCommand.Create(),
    BenchSchedulerCommand.Create(),
    BenchIngestCommand.Create(),
    SummarizeCommand.Create(),
    ValidateCommand.Create(),
    LocalCommand.Create(),
    ServeCommand.Create(),
    GpuNodeCommand.Create(),
    SoftTargetsCommand.Create(),
    SubmitCommand.Create(),
    WatchCommand.Create(),
    StatusCommand.Create(),
    ResultsCommand.Create(),
    CancelCommand.Create(),
    SlotWorkerCommand.Create(),
};
return await CommandLineRunner.RunAsync(root, args);
