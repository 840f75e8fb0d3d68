using System.CommandLine;
using Orchestrator.Coordinator.Benchmarks;
using Orchestrator.Coordinator.Commands;

namespace Orchestrator.Coordinator;

/// <summary>Every command of the <c>orchestrator</c> CLI (the tests also parse deployment manifests' arguments with it).</summary>
public static class OrchestratorCli
{
    public static RootCommand Create() => new("orchestrator: knowledge-distillation experiments on TorchSharp (CPU or CUDA)")
    {
        TrialCommand.Create(),
        BenchCommand.Create(),
        BenchSchedulerCommand.Create(),
        BenchRecoveryCommand.Create(),
        BenchIngestCommand.Create(),
        BenchSearchCommand.Create(),
        SummarizeCommand.Create(),
        ExportCommand.Create(),
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
        RetryCommand.Create(),
        BenchScalarRaceCommand.Create(),
    };
}
