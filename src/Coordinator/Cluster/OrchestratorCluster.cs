using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Configuration;
using Akka.Hosting;
using Akka.Persistence.Sql;
using Microsoft.Extensions.Logging;
using Orchestrator.Hosting;

namespace Orchestrator.Coordinator.Cluster;

/// <param name="JournalConnectionString">Where sweep events go: a SQLite file by default, PostgreSQL in Kubernetes.</param>
/// <param name="JournalProvider">The linq2db provider name: SQLite.MS or PostgreSQL.15.</param>
/// <param name="SnapshotEvery">The least number of a sweep's events between two of its snapshots (<see cref="SweepEntity"/>).</param>
public sealed record ClusterSettings(NodeSettings Node, string JournalConnectionString, string JournalProvider = "SQLite.MS", int SnapshotEvery = SweepEntity.DefaultSnapshotEvery)
{
    public static ClusterSettings Sqlite(string file, NodeSettings node) => new(node, $"Data Source={file}", "SQLite.MS");

    /// <param name="connectionString">An Npgsql connection string, e.g. Host=db;Username=orchestrator;Password=...;Database=orchestrator</param>
    public static ClusterSettings Postgres(string connectionString, NodeSettings node) => new(node, connectionString, "PostgreSQL.15");

    /// <summary>Where the sweeps are journaled, in words for logs (never the password): "the SQLite file runs/x/journal.db", "PostgreSQL database d at host h".</summary>
    public string JournalDescription
    {
        get
        {
            var parts = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = JournalConnectionString };
            string Part(string key) => parts.TryGetValue(key, out var value) ? Convert.ToString(value) ?? "?" : "?";
            return JournalProvider.StartsWith("SQLite", StringComparison.Ordinal)
                ? $"the SQLite file {Part("Data Source")}"
                : $"PostgreSQL database {Part("Database")} at {Part("Host")}";
        }
    }
}

public static class OrchestratorCluster
{
    public const string SweepRegionName = "sweep";

    /// <summary>
    /// The coordinator role: the SQL journal, the sharded sweep entities, and the scheduler as a cluster singleton
    /// (GPU nodes reach it through a singleton proxy).
    /// </summary>
    public static AkkaConfigurationBuilder AddCoordinator(this AkkaConfigurationBuilder builder, ClusterSettings settings) => builder
        .AddOrchestratorMember(settings.Node)
        .AddHocon(Persistence(settings), HoconAddMode.Prepend)
        // A shard region registers with its coordinator every retry-interval until the coordinator singleton is up: with
        // Akka's 2 s, a restarted coordinator's sweeps answered 1.5 s later than with this (bench-recovery, docs/benchmarks.md).
        .AddHocon("akka.cluster.sharding.retry-interval = 500ms", HoconAddMode.Prepend)
        .WithShardRegion<SweepEntity>(SweepRegionName, (_, registry, resolver) => sweepId => SweepEntity.Props(sweepId, registry.Get<Scheduler>(), resolver.GetService<ILogger<SweepEntity>>(), settings.SnapshotEvery),
            new SweepMessageExtractor(),
            new ShardOptions { Role = NodeSettings.CoordinatorRole, RememberEntities = true, RememberEntitiesStore = RememberEntitiesStore.Eventsourced, StateStoreMode = StateStoreMode.Persistence })
        .WithSingleton<Scheduler>(NodeSettings.SchedulerName, (_, registry, resolver) => Scheduler.Props(registry.Get<SweepEntity>(), resolver.GetService<ILogger<Scheduler>>()),
            ClusterMember.SchedulerSingleton, createProxyToo: true);

    /// <summary>Akka.Persistence.Sql has no Hosting API in this package set, so its HOCON is built here from typed settings.</summary>
    static Config Persistence(ClusterSettings settings)
    {
        string connection = settings.JournalConnectionString.Replace("\\", "\\\\").Replace("\"", "\\\"");
        return ConfigurationFactory.ParseString($$"""
            akka.persistence {
              journal {
                plugin = "akka.persistence.journal.sql"
                sql { connection-string = "{{connection}}", provider-name = "{{settings.JournalProvider}}", auto-initialize = on, replay-batch-size = 10000 }
              }
              snapshot-store {
                plugin = "akka.persistence.snapshot-store.sql"
                sql { connection-string = "{{connection}}", provider-name = "{{settings.JournalProvider}}", auto-initialize = on }
              }
            }
            """).WithFallback(SqlPersistence.DefaultConfiguration);
    }
}
