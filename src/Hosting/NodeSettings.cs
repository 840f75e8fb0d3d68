namespace Orchestrator.Hosting;

/// <summary>One cluster member's address and roles, and the names both roles agree on.</summary>
/// <param name="SeedNodes">Akka addresses of the nodes to join, e.g. akka.tcp://orchestrator@coordinator:4053; none: join yourself later.</param>
public sealed record NodeSettings(string Hostname, int Port, string[] Roles, string[] SeedNodes)
{
    public const string SystemName = "orchestrator";
    public const string CoordinatorRole = "coordinator";
    public const string GpuRole = "gpu";
    public const string SchedulerName = "scheduler";
}
