using Akka.Actor;
using Google.Protobuf;
using Orchestrator.Coordinator.Cluster;
using Orchestrator.Coordinator.Planning;
using Orchestrator.Coordinator.Results;
using Orchestrator.Coordinator.Search;
using Orchestrator.Protocol.V1;
using Orchestrator.Tests;
using Shouldly;

namespace Orchestrator.Coordinator.Tests;

/// <summary>Whole sweeps on the in-process cluster: sharded sweep entity, SQLite journal, scheduler, node agents, real (synthetic-data) training.</summary>
public class LocalSweepTests
{
    static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(30);

    static SweepPlan Plan(string yaml, string directory) => SweepPlanner.Plan(SweepFile.Load(TestData.WriteFile("sweep.yaml", yaml)), directory);

    static SubmitSweep Submit(SweepPlan plan) => SweepSubmission.From(plan, Path.Combine(plan.Directory, "soft-targets"));

    static bool IsTrial(JobStatus job) => job.Kind is JobKind.Teacher or JobKind.Student or JobKind.Baseline;

    /// <param name="pack">execution.pack; null: the default (auto).</param>
    static string Sweep(int epochs, string teacherModel = "mlp-64", string? pack = null) => $$"""
        name: local-test
        {{(pack is null ? "" : $"execution: {{ pack: {pack} }}")}}
        dataset: { name: synthetic, validation: 200 }
        teacher: { model: {{teacherModel}}, epochs: {{epochs}}, device: cpu }
        soft_targets: { shards: 2 }
        student:
          model: mlp-16
          epochs: {{epochs}}
          device: cpu
          loss: { terms: [ce, hinton], alpha: 0.5, temperature: 4 }
        parameters:
          alpha: { values: [0.25, 0.75] }
          temperature: { values: [2, 4] }
        seeds: [1, 2]
        """;

    static ClusterSettings Sqlite(string file) => ClusterSettings.Sqlite(file, LocalCluster.Node);

    static IReadOnlyList<IReadOnlyList<string>> Nodes(int nodes, int slots) =>
        Enumerable.Range(0, nodes).Select(_ => (IReadOnlyList<string>)Enumerable.Repeat("cpu", slots).ToList()).ToList();

    static async Task<SweepStatus> Status(LocalCluster cluster, string sweep) =>
        await cluster.Sweeps.Ask<SweepStatus>(new GetSweepStatus { SweepId = sweep, JobsLimit = int.MaxValue }, AskTimeout, TestContext.Current.CancellationToken);

    static async Task<SweepStatus> WaitUntil(LocalCluster cluster, string sweep, Func<SweepStatus, bool> condition)
    {
        var deadline = DateTime.UtcNow.AddMinutes(6); // a hang, not a slow machine: these train real models on shared cores
        while (true)
        {
            var status = await Status(cluster, sweep);
            if (condition(status)) return status;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"sweep {sweep} did not get there: {status}");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    static List<int> Epochs(string trialDirectory) =>
        File.ReadAllLines(Path.Combine(trialDirectory, "metrics.jsonl")).Select(l => JsonParser.Default.Parse<EpochMetrics>(l).Epoch).ToList();

    [Fact]
    public async Task A_sweep_runs_every_job_once_in_dependency_order_and_a_restart_runs_nothing_again()
    {
        string directory = TestData.TemporaryDirectory();
        var plan = Plan(Sweep(epochs: 3), directory);
        string journal = Path.Combine(directory, "journal.db");
        string trials = plan.JobsDirectory;

        var settings = Sqlite(journal) with { SnapshotEvery = 5 }; // 14 jobs, 29 events: snapshots, and events after the last one
        await using (var cluster = await LocalCluster.StartAsync(settings, Nodes(2, 2), TestContext.Current.CancellationToken))
        {
            var accepted = await cluster.Sweeps.Ask<SweepAccepted>(Submit(plan), AskTimeout, TestContext.Current.CancellationToken);
            accepted.Jobs.ShouldBe(1 + 2 + 1 + 8 + 2); // teacher, its two shards, their aggregation, students, a student alone per seed
            cluster.System.Serialization.FindSerializerFor(new JobStarted()).ShouldBeOfType<Hosting.ProtobufSerializer>();
            var status = await WaitUntil(cluster, "local-test", s => s.Complete);
            status.Jobs.ShouldAllBe(j => j.State == JobState.Done);
            var softTargets = status.Jobs.Single(j => j.Kind == JobKind.SoftTargets).Summary;
            softTargets.SoftTargetsCached.ShouldBeFalse();
            softTargets.Teachers.Single().Checkpoint.ShouldBe(Path.Combine(trials, plan.Teachers[0].Id, "best.ckpt"));
            var students = status.Jobs.Where(j => j.Kind == JobKind.Student).ToList();
            students.Count.ShouldBe(8);
            students.ShouldAllBe(j => j.Summary.SoftTargets == softTargets.SoftTargets && j.Summary.TeacherTestAccuracy == softTargets.TestAccuracy);
            foreach (var job in status.Jobs.Where(IsTrial)) Epochs(Path.Combine(trials, job.JobId)).ShouldBe([1, 2, 3]);
            // Every trained model's cost, the teacher's and the baselines' too, measured by the node that trained it.
            var table = new ResultsTable(status.ParameterNames);
            foreach (var job in status.Jobs.Where(IsTrial))
            {
                var cost = job.Summary.Cost.ShouldNotBeNull(job.JobId);
                cost.MultiplyAccumulates.ShouldBeGreaterThan(0, job.JobId);
                cost.LatencyMsBatch1.ShouldBeGreaterThan(0, job.JobId);
                cost.LatencyRunsBatch256.ShouldBeGreaterThan(0, job.JobId);
                cost.Device.ShouldBe("cpu");
                table.Row(job)["latency_ms"].ShouldBe(cost.LatencyMsBatch1);
                table.Row(job)["params"].ShouldBe(job.Summary.Parameters);
            }
            status.Jobs.Where(j => j.Kind != JobKind.Teacher && IsTrial(j)).Select(j => j.Summary.Cost.MultiplyAccumulates).Distinct()
                .ShouldBe([8 * 8 * 16 + 16 * 10L]); // mlp-16 on 8x8 images of 10 classes, counted by hand
        }
        var finishedAt = Directory.GetFiles(trials, "summary.json", SearchOption.AllDirectories).ToDictionary(f => f, File.GetLastWriteTimeUtc);
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={journal}"))
        {
            connection.Open();
            using var query = connection.CreateCommand();
            query.CommandText = "SELECT max(sequence_number), min(serializer_id) FROM snapshot WHERE persistence_id = 'sweep-local-test'";
            using var row = query.ExecuteReader();
            row.Read().ShouldBeTrue();
            row.GetInt64(0).ShouldBeGreaterThanOrEqualTo(20); // the latest snapshot
            row.GetInt32(1).ShouldBe(4711); // written by the protobuf serializer, as the events are
        }

        await using (var restarted = await LocalCluster.StartAsync(settings, Nodes(1, 1), TestContext.Current.CancellationToken))
        {
            var again = await restarted.Sweeps.Ask<SweepAccepted>(Submit(plan), AskTimeout, TestContext.Current.CancellationToken);
            again.AlreadyDone.ShouldBe(14);
            (await Status(restarted, "local-test")).Complete.ShouldBeTrue();
        }
        foreach (var (file, time) in finishedAt) File.GetLastWriteTimeUtc(file).ShouldBe(time, file);
    }

    [Fact]
    public async Task A_two_objective_sweep_marks_exactly_the_non_dominated_points_keeping_its_constraint_and_a_restart_keeps_its_front()
    {
        string directory = TestData.TemporaryDirectory();
        var plan = Plan("""
            name: pareto-test
            dataset: { name: synthetic, validation: 200 }
            teacher: { model: mlp-64, epochs: 2, device: cpu }
            student:
              model: mlp-16
              epochs: 2
              device: cpu
              loss: { terms: [ce, hinton], alpha: 0.5, temperature: 4 }
            parameters:
              model: { values: [mlp-4, mlp-8, mlp-16, mlp-32, mlp-64] }
              alpha: { values: [0.25, 0.75] }
            metric: [val_accuracy, { name: latency_ms, goal: minimize }]
            constraints: { params: { max: 3000 } }
            seeds: [1, 2]
            """, directory);
        var settings = Sqlite(Path.Combine(directory, "journal.db")) with { SnapshotEvery = 7 };
        IReadOnlyList<(string Point, double Accuracy, double Latency)> front;
        await using (var cluster = await LocalCluster.StartAsync(settings, Nodes(1, 2), TestContext.Current.CancellationToken))
        {
            await cluster.Sweeps.Ask<SweepAccepted>(Submit(plan), AskTimeout, TestContext.Current.CancellationToken);
            var status = await WaitUntil(cluster, "pareto-test", s => s.Complete);
            status.Objectives.Single().Name.ShouldBe("latency_ms");
            front = status.Front.Select(r => (SweepResults.PointKey(r.Parameters), r.Measures["val_accuracy"], r.Measures["latency_ms"])).ToList();

            // The brute-force front over the points' means, among those within 3,000 parameters.
            var points = status.Jobs.Where(j => j is { Kind: JobKind.Student, State: JobState.Done }).GroupBy(j => SweepResults.PointKey(j.Parameters))
                .Select(g => (Point: g.Key, Accuracy: g.Average(j => j.Summary.BestValidationAccuracy), Latency: g.Average(j => j.Summary.Cost.LatencyMsBatch1),
                    Parameters: g.First().Summary.Parameters)).ToList();
            points.Count.ShouldBe(10);
            var feasible = points.Where(p => p.Parameters <= 3000).ToList();
            feasible.Count.ShouldBe(8); // mlp-64 (4,810 parameters on 8x8 images) breaks the constraint
            var expected = feasible.Where(p => !feasible.Any(q => q.Accuracy >= p.Accuracy && q.Latency <= p.Latency && (q.Accuracy > p.Accuracy || q.Latency < p.Latency)))
                .Select(p => p.Point).Order().ToList();
            front.Select(f => f.Point).Order().ShouldBe(expected);
            front.Select(f => f.Accuracy).ShouldBeInOrder(SortDirection.Descending); // best first by the first objective
            foreach (var point in front)
            {
                var measured = points.Single(p => p.Point == point.Point);
                point.Accuracy.ShouldBe(measured.Accuracy, tolerance: 1e-12);
                point.Latency.ShouldBe(measured.Latency, tolerance: 1e-9);
            }
            SweepResults.FrontLines(status, SweepResults.Recipes(status)).Last().ShouldStartWith("pareto-test: best on latency_ms keeping params <= 3,000: ");
            var table = new ResultsTable(status.ParameterNames, SweepResults.FrontKeys(status));
            foreach (var student in status.Jobs.Where(j => j.Kind == JobKind.Student))
                table.Row(student)["pareto_front"].ShouldBe(expected.Contains(SweepResults.PointKey(student.Parameters)));
        }

        await using (var restarted = await LocalCluster.StartAsync(settings, Nodes(1, 1), TestContext.Current.CancellationToken))
        {
            var again = await Status(restarted, "pareto-test");
            again.Front.Select(r => (SweepResults.PointKey(r.Parameters), r.Measures["val_accuracy"], r.Measures["latency_ms"])).ToList().ShouldBe(front);
        }
    }

    [Fact]
    public async Task A_sweep_stopped_mid_way_resumes_from_its_journal_and_checkpoints()
    {
        string directory = TestData.TemporaryDirectory();
        var plan = Plan(Sweep(epochs: 40, teacherModel: "mlp-1200-1200"), directory);
        string journal = Path.Combine(directory, "journal.db");
        string trials = plan.JobsDirectory;

        await using (var cluster = await LocalCluster.StartAsync(Sqlite(journal), Nodes(1, 1), TestContext.Current.CancellationToken))
        {
            await cluster.Sweeps.Ask<SweepAccepted>(Submit(plan), AskTimeout, TestContext.Current.CancellationToken);
            string teacherMetrics = Path.Combine(trials, plan.Teachers[0].Id, "metrics.jsonl");
            await WaitUntil(cluster, "local-test", _ => File.Exists(teacherMetrics) && File.ReadAllLines(teacherMetrics).Length >= 2);
        } // stops the cluster with the teacher part-trained

        await using (var resumed = await LocalCluster.StartAsync(Sqlite(journal), Nodes(1, 2), TestContext.Current.CancellationToken))
        {
            await resumed.Sweeps.Ask<SweepAccepted>(Submit(plan), AskTimeout, TestContext.Current.CancellationToken);
            var status = await WaitUntil(resumed, "local-test", s => s.Complete);
            status.Jobs.ShouldAllBe(j => j.State == JobState.Done);
            foreach (var job in status.Jobs.Where(IsTrial)) Epochs(Path.Combine(trials, job.JobId)).ShouldBe(Enumerable.Range(1, 40));
        }
    }

    [Fact]
    public async Task A_second_sweep_with_the_same_teachers_generates_no_soft_targets()
    {
        string directory = TestData.TemporaryDirectory();
        string store = Path.Combine(directory, "soft-targets");
        const string Common = """
            dataset: { name: synthetic, validation: 200 }
            soft_targets: { shards: 2 }
            student: { model: mlp-16, epochs: 1, device: cpu, loss: { terms: [ce, hinton], alpha: 0.5 } }
            seeds: [1]
            """;
        var first = Plan($"name: reuse-a\nteacher: {{ model: mlp-64, epochs: 2, device: cpu, count: 2 }}\n{Common}", Path.Combine(directory, "a"));
        var checkpoints = first.Teachers.Select(t => Path.Combine(first.JobsDirectory, t.Id, "best.ckpt")).ToList();

        await using var cluster = await LocalCluster.StartAsync(Sqlite(Path.Combine(directory, "journal.db")), Nodes(1, 2), TestContext.Current.CancellationToken);
        await cluster.Sweeps.Ask<SweepAccepted>(SweepSubmission.From(first, store), AskTimeout, TestContext.Current.CancellationToken);
        var made = await WaitUntil(cluster, "reuse-a", s => s.Complete);
        made.Jobs.Where(j => j.Kind is JobKind.SoftTargets or JobKind.SoftTargetShard).ShouldAllBe(j => !j.Summary.SoftTargetsCached);
        var files = Directory.GetFiles(store, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.GetLastWriteTimeUtc);
        files.Keys.Count(f => f.EndsWith(".soft")).ShouldBe(1);
        files.Keys.Count(f => f.EndsWith(".part")).ShouldBe(2 * 2);

        var second = Plan($"name: reuse-b\nteacher: [ {string.Join(", ", checkpoints.Select(c => $"{{ checkpoint: {c} }}"))} ]\n{Common}", Path.Combine(directory, "b"));
        await cluster.Sweeps.Ask<SweepAccepted>(SweepSubmission.From(second, store), AskTimeout, TestContext.Current.CancellationToken);
        var reused = await WaitUntil(cluster, "reuse-b", s => s.Complete);
        reused.Jobs.ShouldAllBe(j => j.State == JobState.Done);
        reused.Jobs.Where(j => j.Kind is JobKind.SoftTargets or JobKind.SoftTargetShard).ShouldAllBe(j => j.Summary.SoftTargetsCached);
        string key = made.Jobs.Single(j => j.Kind == JobKind.SoftTargets).Summary.SoftTargets;
        reused.Jobs.Single(j => j.Kind == JobKind.Student).Summary.SoftTargets.ShouldBe(key);
        Directory.GetFiles(store, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.GetLastWriteTimeUtc).ShouldBe(files);
    }

    [Fact]
    public async Task A_teacher_two_sweeps_share_is_trained_once_and_gives_one_soft_target_artifact()
    {
        string directory = TestData.TemporaryDirectory();
        string store = Path.Combine(directory, "soft-targets");
        string Sweep(string name, string alphas) => $$"""
            name: {{name}}
            dataset: { name: synthetic, validation: 200 }
            teacher: { model: mlp-64, epochs: 3, device: cpu }
            soft_targets: { shards: 1 }
            student: { model: mlp-16, epochs: 1, device: cpu, loss: { terms: [ce, hinton], alpha: 0.5 } }
            parameters: { alpha: { values: [{{alphas}}] } }
            seeds: [1]
            """;
        var first = Plan(Sweep("teacher-a", "0.25"), Path.Combine(directory, "a"));
        var second = Plan(Sweep("teacher-b", "0.75"), Path.Combine(directory, "b"));
        first.Teachers.Single().Id.ShouldBe(second.Teachers.Single().Id); // the same teacher, planned into two sweeps' folders

        await using var cluster = await LocalCluster.StartAsync(Sqlite(Path.Combine(directory, "journal.db")), Nodes(1, 1), TestContext.Current.CancellationToken);
        await cluster.Sweeps.Ask<SweepAccepted>(SweepSubmission.From(first, store), AskTimeout, TestContext.Current.CancellationToken);
        var a = await WaitUntil(cluster, "teacher-a", s => s.Complete);
        await cluster.Sweeps.Ask<SweepAccepted>(SweepSubmission.From(second, store), AskTimeout, TestContext.Current.CancellationToken);
        var b = await WaitUntil(cluster, "teacher-b", s => s.Complete);

        a.Jobs.Concat(b.Jobs).ShouldAllBe(j => j.State == JobState.Done);
        var trained = a.Jobs.Single(j => j.Kind == JobKind.Teacher).Summary;
        var reused = b.Jobs.Single(j => j.Kind == JobKind.Teacher).Summary;
        reused.Notes.ShouldContain(n => n.StartsWith("reused: the same trial") && n.Contains(Path.Combine(first.JobsDirectory, first.Teachers[0].Id)));
        (reused.BestValidationAccuracy, reused.TestAccuracy, reused.BestEpoch).ShouldBe((trained.BestValidationAccuracy, trained.TestAccuracy, trained.BestEpoch));
        reused.BestCheckpoint.ShouldBe(Path.Combine(second.JobsDirectory, second.Teachers[0].Id, "best.ckpt")); // its own copy, in its own sweep's folder
        Epochs(Path.Combine(second.JobsDirectory, second.Teachers[0].Id)).ShouldBe([1, 2, 3]);
        Directory.GetFiles(store, "*.soft").Length.ShouldBe(1);
        b.Jobs.Where(j => j.Kind == JobKind.SoftTargets).ShouldAllBe(j => j.Summary.SoftTargetsCached);
        b.Jobs.Single(j => j.Kind == JobKind.Student).Summary.SoftTargets.ShouldBe(a.Jobs.Single(j => j.Kind == JobKind.Student).Summary.SoftTargets);
    }

    [Fact]
    public async Task Every_trial_computes_the_same_numbers_alone_or_beside_another_on_the_same_node()
    {
        // Each slot trains in its own worker process, so nothing (libtorch's global random generator above all:
        // shuffling, dropout) is shared between trials that run at the same time.
        var runs = new List<Dictionary<string, List<string>>>();
        foreach (int slots in new[] { 1, 2 })
        {
            string directory = TestData.TemporaryDirectory();
            var plan = Plan(Sweep(epochs: 2, pack: "1"), directory); // packs change rounding (A_sweep_in_packs_...)
            await using var cluster = await LocalCluster.StartAsync(Sqlite(Path.Combine(directory, "journal.db")), Nodes(1, slots), TestContext.Current.CancellationToken);
            await cluster.Sweeps.Ask<SweepAccepted>(Submit(plan), AskTimeout, TestContext.Current.CancellationToken);
            var status = await WaitUntil(cluster, "local-test", s => s.Complete);
            status.Jobs.ShouldAllBe(j => j.State == JobState.Done);
            runs.Add(status.Jobs.Where(IsTrial).ToDictionary(j => j.JobId, j => File.ReadAllLines(Path.Combine(plan.JobsDirectory, j.JobId, "metrics.jsonl"))
                .Select(line => JsonParser.Default.Parse<EpochMetrics>(line))
                .Select(m => $"{m.Epoch} {m.TrainLoss:R} {string.Join(",", m.LossTerms.OrderBy(t => t.Key).Select(t => $"{t.Key}={t.Value:R}"))} {m.ValidationLoss:R} {m.ValidationAccuracy:R}")
                .ToList()));
        }
        runs[1].Keys.Order().ShouldBe(runs[0].Keys.Order());
        foreach (var (trial, epochs) in runs[0]) runs[1][trial].ShouldBe(epochs, trial);
    }

    /// <summary>
    /// Packs are an execution detail: with one slot, pack 8 trains each seed's four students as one pack, and every
    /// trial ends where it ends alone (pack 1) to float tolerance: the same best epoch, accuracies within 1 % (2 of 200
    /// validation images), losses within 1e-3 relative; the results table has the same columns, and names the packs.
    /// </summary>
    [Fact]
    public async Task A_sweep_in_packs_gives_every_trial_what_it_gets_alone()
    {
        var runs = new Dictionary<string, (SweepStatus Status, ResultsTable Table)>();
        foreach (string pack in new[] { "1", "8" })
        {
            string directory = TestData.TemporaryDirectory();
            var plan = Plan(Sweep(epochs: 3, pack: pack), directory);
            await using var cluster = await LocalCluster.StartAsync(Sqlite(Path.Combine(directory, "journal.db")), Nodes(1, 1), TestContext.Current.CancellationToken);
            await cluster.Sweeps.Ask<SweepAccepted>(Submit(plan), AskTimeout, TestContext.Current.CancellationToken);
            var status = await WaitUntil(cluster, "local-test", s => s.Complete);
            status.Jobs.ShouldAllBe(j => j.State == JobState.Done);
            runs[pack] = (status, new ResultsTable(status.ParameterNames));
        }
        var alone = runs["1"].Status.Jobs.Where(IsTrial).ToDictionary(j => j.JobId, j => j.Summary);
        var packed = runs["8"].Status.Jobs.Where(IsTrial).ToDictionary(j => j.JobId, j => j.Summary);
        packed.Keys.Order().ShouldBe(alone.Keys.Order());
        foreach (var (job, summary) in packed)
        {
            var expected = alone[job];
            summary.BestEpoch.ShouldBe(expected.BestEpoch, job);
            summary.BestValidationAccuracy.ShouldBe(expected.BestValidationAccuracy, tolerance: 0.01, job);
            summary.TestAccuracy.ShouldBe(expected.TestAccuracy, tolerance: 0.01, job);
            summary.BestValidationLoss.ShouldBe(expected.BestValidationLoss, tolerance: 1e-3 * expected.BestValidationLoss, job);
            expected.Pack.ShouldBeEmpty();
        }
        // One slot, two seeds: each seed's four students trained as one pack; the teacher, alone.
        var students = runs["8"].Status.Jobs.Where(j => j.Kind == JobKind.Student).ToList();
        students.GroupBy(j => j.Summary.Pack).Select(g => (g.Key.Split('x')[^1], g.Select(j => j.Seed).Distinct().Count()))
            .ShouldBe([("4", 1), ("4", 1)], ignoreOrder: true);
        runs["8"].Table.Columns.ShouldBe(runs["1"].Table.Columns);
        runs["8"].Status.Jobs.Select(j => runs["8"].Table.Row(j).Keys.ToList()).ShouldAllBe(keys => keys.SequenceEqual(runs["1"].Table.Columns));
        runs["8"].Table.Row(students[0])["pack"].ShouldBe(students[0].Summary.Pack);
    }

    [Fact]
    public async Task A_job_whose_worker_is_killed_runs_again_from_its_checkpoint_and_the_sweep_completes()
    {
        string directory = TestData.TemporaryDirectory();
        var plan = Plan(Sweep(epochs: 30, teacherModel: "mlp-1200-1200"), directory);
        await using var cluster = await LocalCluster.StartAsync(Sqlite(Path.Combine(directory, "journal.db")), Nodes(1, 1), TestContext.Current.CancellationToken);
        await cluster.Sweeps.Ask<SweepAccepted>(Submit(plan), AskTimeout, TestContext.Current.CancellationToken);
        string teacher = Path.Combine(plan.JobsDirectory, plan.Teachers.Single().Id);
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (!(File.Exists(Path.Combine(teacher, "metrics.jsonl")) && Epochs(teacher).Count >= 1))
        {
            DateTime.UtcNow.ShouldBeLessThan(deadline);
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
        var workers = cluster.WorkerProcessIds.ToList();
        workers.Count.ShouldBe(1);
        System.Diagnostics.Process.GetProcessById(workers[0]).Kill(); // SIGKILL, as the out-of-memory killer would

        var status = await WaitUntil(cluster, "local-test", s => s.Complete);
        status.Jobs.ShouldAllBe(j => j.State == JobState.Done);
        Epochs(teacher).ShouldBe(Enumerable.Range(1, 30)); // resumed from its last checkpoint: no epoch twice, none lost
        cluster.WorkerProcessIds.ShouldNotContain(workers[0]); // a new worker ran the rest
    }

    /// <summary>Hyperband stops trailing students while their pack-mates train on: the stop reaches one trial of a pack in its worker.</summary>
    [Fact]
    public async Task Hyperband_stops_trials_inside_a_pack_and_the_rest_of_the_pack_trains_on()
    {
        string directory = TestData.TemporaryDirectory();
        var plan = Plan("""
            name: local-test
            dataset: { name: synthetic, validation: 200 }
            execution: { pack: 8 }
            student: { model: mlp-16, epochs: 9, device: cpu }
            parameters:
              lr: { values: [0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03] }
            early_terminate: { type: hyperband, min_iter: 1, eta: 3 }
            """, directory);
        await using var cluster = await LocalCluster.StartAsync(Sqlite(Path.Combine(directory, "journal.db")), Nodes(1, 1), TestContext.Current.CancellationToken);
        await cluster.Sweeps.Ask<SweepAccepted>(Submit(plan), AskTimeout, TestContext.Current.CancellationToken);
        var status = await WaitUntil(cluster, "local-test", s => s.Complete);

        var students = status.Jobs.Where(j => j.Kind == JobKind.Student).ToList();
        students.Select(j => j.Summary.Pack).Distinct().ShouldHaveSingleItem().ShouldEndWith("x6"); // all six, one pack
        var stopped = students.Where(j => j.State == JobState.Stopped).ToList();
        stopped.ShouldNotBeEmpty();
        foreach (var job in stopped)
        {
            job.StopReason.ShouldStartWith("stopped by hyperband at epoch ");
            job.Summary.EpochsRun.ShouldBeLessThan(9);
            job.Summary.HasTestAccuracy.ShouldBeTrue(); // its best checkpoint's
            Epochs(Path.Combine(plan.JobsDirectory, job.JobId)).Count.ShouldBe(job.Summary.EpochsRun);
        }
        students.ShouldContain(j => j.State == JobState.Done && j.Summary.EpochsRun == 9); // the pack trained on without them
    }

    [Fact]
    public async Task A_pack_whose_worker_is_killed_runs_again_and_each_trial_resumes_from_its_own_checkpoint()
    {
        string directory = TestData.TemporaryDirectory();
        var plan = Plan(Sweep(epochs: 30), directory);
        await using var cluster = await LocalCluster.StartAsync(Sqlite(Path.Combine(directory, "journal.db")), Nodes(1, 1), TestContext.Current.CancellationToken);
        await cluster.Sweeps.Ask<SweepAccepted>(Submit(plan), AskTimeout, TestContext.Current.CancellationToken);
        var students = plan.Jobs.Where(j => j.Kind == JobKind.Student).Select(j => Path.Combine(plan.JobsDirectory, j.Id)).ToList();
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (!students.Any(s => File.Exists(Path.Combine(s, "metrics.jsonl")) && Epochs(s).Count >= 2))
        {
            DateTime.UtcNow.ShouldBeLessThan(deadline);
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
        var workers = cluster.WorkerProcessIds.ToList();
        System.Diagnostics.Process.GetProcessById(workers.Single()).Kill(); // SIGKILL, in the middle of a pack

        var status = await WaitUntil(cluster, "local-test", s => s.Complete);
        status.Jobs.ShouldAllBe(j => j.State == JobState.Done);
        foreach (string student in students) Epochs(student).ShouldBe(Enumerable.Range(1, 30), student); // no epoch twice, none lost
        status.Jobs.Where(j => j.Kind == JobKind.Student).ShouldContain(j => j.Summary.Pack.Length > 0);
    }

    [Fact]
    public async Task The_split_brain_resolver_keeps_the_side_with_the_coordinator()
    {
        await using var cluster = await LocalCluster.StartAsync(Sqlite(Path.Combine(TestData.TemporaryDirectory(), "journal.db")), Nodes(1, 1), TestContext.Current.CancellationToken);
        var config = cluster.System.Settings.Config;
        config.GetString("akka.cluster.downing-provider-class").ShouldContain("SplitBrainResolverProvider");
        config.GetString("akka.cluster.split-brain-resolver.active-strategy").ShouldBe("keep-majority");
        config.GetString("akka.cluster.split-brain-resolver.keep-majority.role").ShouldBe(Hosting.NodeSettings.CoordinatorRole); // not "most members"
    }

    [Fact]
    public async Task Resubmitting_a_changed_sweep_under_the_same_name_is_refused()
    {
        string directory = TestData.TemporaryDirectory();
        await using var cluster = await LocalCluster.StartAsync(Sqlite(Path.Combine(directory, "journal.db")), Nodes(1, 1), TestContext.Current.CancellationToken);
        await cluster.Sweeps.Ask<SweepAccepted>(Submit(Plan(Sweep(epochs: 1), directory)), AskTimeout, TestContext.Current.CancellationToken);
        var refusal = await cluster.Sweeps.Ask<IMessage>(Submit(Plan(Sweep(epochs: 2), directory)), AskTimeout, TestContext.Current.CancellationToken);
        var rejected = refusal.ShouldBeOfType<SweepRejected>(); // a reply, not an exception
        rejected.Reason.ShouldBe(SweepRejected.Types.Reason.Conflict);
        rejected.Message.ShouldContain("was submitted before with other trials");
    }
}
