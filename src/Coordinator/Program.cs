using Orchestrator.Coordinator;
using Orchestrator.Coordinator.Commands;

return await CommandLineRunner.RunAsync(OrchestratorCli.Create(), args);
