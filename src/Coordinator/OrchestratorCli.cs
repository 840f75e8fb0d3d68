using System.CommandLine;
using Orchestrator.Coordinator.Benchmarks;
using Orchestrator.Coordinator.Commands;

namespace Orchestrator.Coordinator;

/// <summary>Every command of the <c>orchestrator</c> CLI (the tests also parse deployment manifests' arguments with it).</summary>
public static class OrchestratorCli
{
    /// <summary>The commands in the order a user meets them, then the benchmarks (each described as one), grouped so in --help.</summary>
    public static RootCommand Create() => new("orchestrator: knowledge-distillation experiments on TorchSharp (CPU or CUDA)")
    {
        ValidateCommand.Create(),
        LocalCommand.Create(),
        TrialCommand.Create(),
        ServeCommand.Create(),
        GpuNodeCommand.Create(),
        SubmitCommand.Create(),
        ForkCommand.Create(),
        WatchCommand.Create(),
        StatusCommand.Create(),
        ResultsCommand.Create(),
        RetryCommand.Create(),
        CancelCommand.Create(),
        SoftTargetsCommand.Create(),
        SummarizeCommand.Create(),
        ExportCommand.Create(),
        ModelsCommand.Create(),
        BenchCommand.Create(),
        BenchSchedulerCommand.Create(),
        BenchRecoveryCommand.Create(),
        BenchIngestCommand.Create(),
        BenchSearchCommand.Create(),
        BenchScalarRaceCommand.Create(),
        BenchLoadCommand.Create(),
    };
}
