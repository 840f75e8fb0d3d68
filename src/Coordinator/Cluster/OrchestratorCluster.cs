using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Configuration;
using Akka.Hosting;
using Akka.Persistence.Sql;
using Akka.Remote.Hosting;
using Orchestrator.Protocol;

namespace Orchestrator.Coordinator.Cluster;

/// <param name="JournalConnectionString">Where sweep events go: a SQLite file by default, PostgreSQL in Kubernetes.</param>
/// <param name="JournalProvider">The linq2db provider name: SQLite.MS or PostgreSQL.15.</param>
public sealed record ClusterSettings(string Hostname, int Port, string[] Roles, string JournalConnectionString, string JournalProvider = "SQLite.MS")
{
    public static ClusterSettings Sqlite(string file, string[] roles) =>
        new("127.0.0.1", 0, roles, $"Data Source={file}", "SQLite.MS");

    /// <param name="connectionString">An Npgsql connection string, e.g. Host=db;Username=orchestrator;Password=...;Database=orchestrator</param>
    public static ClusterSettings Postgres(string connectionString, string[] roles) =>
        new("127.0.0.1", 0, roles, connectionString, "PostgreSQL.15");
}

public static class OrchestratorCluster
{
    public const string CoordinatorRole = "coordinator";
    public const string GpuRole = "gpu";

    /// <summary>Remoting, clustering, the protobuf serializer, the SQL journal, the sharded sweep entities and the scheduler.</summary>
    public static AkkaConfigurationBuilder AddOrchestratorCluster(this AkkaConfigurationBuilder builder, ClusterSettings settings) => builder
        .WithRemoting(settings.Hostname, settings.Port)
        .WithClustering(new ClusterOptions { Roles = settings.Roles })
        .WithCustomSerializer("orchestrator-protobuf", ProtobufSerializer.MessageTypes, system => new ProtobufSerializer(system))
        .AddHocon(Persistence(settings), HoconAddMode.Prepend)
        .WithShardRegion<SweepEntity>("sweep", (_, registry) => sweepId => SweepEntity.Props(sweepId, registry.Get<Scheduler>()),
            new SweepMessageExtractor(),
            new ShardOptions { Role = CoordinatorRole, RememberEntities = true, RememberEntitiesStore = RememberEntitiesStore.Eventsourced, StateStoreMode = StateStoreMode.Persistence })
        .WithActors((system, registry) => registry.Register<Scheduler>(system.ActorOf(Scheduler.Props(registry.Get<SweepEntity>()), "scheduler")));

    /// <summary>Akka.Persistence.Sql has no Hosting API in this package set, so its HOCON is built here from typed settings.</summary>
    static Config Persistence(ClusterSettings settings)
    {
        string connection = settings.JournalConnectionString.Replace("\\", "\\\\").Replace("\"", "\\\"");
        return ConfigurationFactory.ParseString($$"""
            akka.persistence {
              journal {
                plugin = "akka.persistence.journal.sql"
                sql { connection-string = "{{connection}}", provider-name = "{{settings.JournalProvider}}", auto-initialize = on }
              }
              snapshot-store {
                plugin = "akka.persistence.snapshot-store.sql"
                sql { connection-string = "{{connection}}", provider-name = "{{settings.JournalProvider}}", auto-initialize = on }
              }
            }
            """).WithFallback(SqlPersistence.DefaultConfiguration);
    }
}
