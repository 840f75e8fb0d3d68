using Orchestrator.GpuNode;

// The slot worker process that SlotWorkers starts for each slot of a GPU node: it runs the jobs its node writes to
// its stdin (worker.proto) until stdin closes. Not for direct use: nodes start with `orchestrator gpunode`.
if (!Console.IsInputRedirected)
{
    Console.Error.WriteLine("Orchestrator.GpuNode is a GPU node's slot worker and reads its jobs from a pipe; start a node with `orchestrator gpunode`.");
    return 2;
}
return SlotWorkerLoop.Run(Console.In, Console.OpenStandardOutput());
