using Akka.Actor;
using Npgsql;
using Orchestrator.Coordinator.Cluster;
using Orchestrator.Coordinator.Planning;
using Orchestrator.Protocol.V1;
using Orchestrator.Tests;
using Shouldly;

namespace Orchestrator.Coordinator.Tests;

/// <summary>A sweep journalled in a real PostgreSQL server, as in Kubernetes.</summary>
public class PostgresJournalTests(PostgresServer postgres) : IClassFixture<PostgresServer>
{
    [Fact]
    public async Task A_sweep_runs_with_its_events_in_postgresql_and_recovers_from_them()
    {
        string directory = TestData.TemporaryDirectory();
        string sweepFile = Path.Combine(directory, "sweep.yaml");
        File.WriteAllText(sweepFile, """
            name: pg-sweep
            dataset: { name: synthetic, validation: 200 }
            student: { model: mlp-16, epochs: 2, device: cpu }
            parameters:
              lr: { values: [0.001, 0.01] }
            seeds: [1, 2]
            """);
        var plan = SweepPlanner.Plan(SweepFile.Load(sweepFile), directory);
        var submit = SweepSubmission.From(plan, Path.Combine(directory, "soft-targets"));
        var timeout = TimeSpan.FromSeconds(30);
        var token = TestContext.Current.CancellationToken;
        var journal = ClusterSettings.Postgres(postgres.ConnectionString, LocalCluster.Node) with { SnapshotEvery = 4 };
        IReadOnlyList<IReadOnlyList<string>> nodes = [["cpu", "cpu"]];

        await using (var cluster = await LocalCluster.StartAsync(journal, nodes, token))
        {
            await cluster.Sweeps.Ask<SweepAccepted>(submit, timeout, token);
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (!(await cluster.Sweeps.Ask<SweepStatus>(new GetSweepStatus { SweepId = "pg-sweep", JobsLimit = int.MaxValue }, timeout, token)).Complete)
            {
                DateTime.UtcNow.ShouldBeLessThan(deadline, "the sweep did not finish");
                await Task.Delay(50, token);
            }
        }

        await using (var connection = new NpgsqlConnection(postgres.ConnectionString))
        {
            await connection.OpenAsync(token);
            await using var query = new NpgsqlCommand("SELECT count(*) FROM journal WHERE persistence_id = 'sweep-pg-sweep'", connection);
            // submitted + the attempt numbers reserved + (started + completed) for each of the 4 trials
            Convert.ToInt32(await query.ExecuteScalarAsync(token)).ShouldBe(1 + 1 + 4 * 2);
            // a snapshot after the 4th and the 8th event; the older one deleted once the newer was saved
            await using var snapshots = new NpgsqlCommand("SELECT max(sequence_number) FROM snapshot WHERE persistence_id = 'sweep-pg-sweep'", connection);
            Convert.ToInt64(await snapshots.ExecuteScalarAsync(token)).ShouldBe(8);
        }

        await using (var recovered = await LocalCluster.StartAsync(journal, nodes, token))
        {
            var status = await recovered.Sweeps.Ask<SweepStatus>(new GetSweepStatus { SweepId = "pg-sweep", JobsLimit = int.MaxValue }, timeout, token);
            status.Complete.ShouldBeTrue();
            status.Jobs.Count.ShouldBe(4);
            status.Jobs.ShouldAllBe(j => j.State == JobState.Done && j.Summary.HasTestAccuracy);
        }
    }
}
