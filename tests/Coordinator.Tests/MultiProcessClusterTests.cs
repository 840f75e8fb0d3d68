using System.Text.RegularExpressions;
using Orchestrator.Tests;
using Shouldly;

namespace Orchestrator.Coordinator.Tests;

/// <summary>A coordinator and two GPU nodes as separate processes on loopback ports, stopped with SIGTERM.</summary>
public class MultiProcessClusterTests
{
    [Fact]
    public async Task Serve_and_two_gpu_nodes_complete_a_sweep_with_every_trial_run_exactly_once()
    {
        string directory = TestData.TemporaryDirectory();
        string sweep = Path.Combine(directory, "sweep.yaml");
        File.WriteAllText(sweep, """
            name: mp-sweep
            dataset: { name: synthetic, validation: 200 }
            teacher: { model: mlp-64, epochs: 3 }
            soft_targets: { shards: 2 }
            student: { model: mlp-16, epochs: 3, loss: { terms: [ce, hinton], alpha: 0.5 } }
            parameters:
              alpha: { values: [0.25, 0.5, 0.75] }
            seeds: [1, 2]
            """);
        int port = Loopback.FreePort();
        string seed = $"akka.tcp://orchestrator@127.0.0.1:{port}";
        // The nodes start first (they keep trying to join), so both have offered their slot when the sweep arrives
        // and the test can ask that both took work.
        using var first = RunningProcess.Start("gpunode", "--seed-nodes", seed, "--devices", "cpu", "--name", "first");
        using var second = RunningProcess.Start("gpunode", "--seed-nodes", seed, "--devices", "cpu", "--name", "second");
        var ready = DateTime.UtcNow.AddMinutes(1);
        while (!(first.Output.Contains("slot(s)") && second.Output.Contains("slot(s)")))
        {
            DateTime.UtcNow.ShouldBeLessThan(ready, $"nodes did not start; first:\n{first.Output}\nsecond:\n{second.Output}");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
        string store = Path.Combine(directory, "soft-targets");
        int grpcPort = Loopback.FreePort();
        using var coordinator = RunningProcess.Start("serve", "--port", port.ToString(), "--grpc-port", grpcPort.ToString(),
            "--out", directory, "--sweep", sweep, "--soft-targets", store);

        string results = Path.Combine(directory, "mp-sweep", "results.csv");
        await WaitForResults(results, TimeSpan.FromMinutes(3), coordinator, () => $"coordinator said:\n{coordinator.Output}\nfirst:\n{first.Output}\nsecond:\n{second.Output}");
        coordinator.Output.ShouldContain("GPU node first joined: 1 slot(s) on cpu");
        coordinator.Output.ShouldContain("GPU node second joined: 1 slot(s) on cpu");
        coordinator.Output.ShouldNotContain("SQLite.MS");
        var status = await OrchestratorProcess.RunAsync("status", "--endpoint", $"http://127.0.0.1:{grpcPort}");
        status.Output.ShouldContain("| GPU node | free slots | running trials |", customMessage: status.Error);
        status.Output.ShouldContain("| first |");

        (await first.TerminateAsync()).ShouldBe(0, first.Output);
        await coordinator.WaitForOutput("GPU node first left", TimeSpan.FromMinutes(1));
        (await second.TerminateAsync()).ShouldBe(0, second.Output);
        (await coordinator.TerminateAsync()).ShouldBe(0, coordinator.Output);
        foreach (var stopped in new[] { first, second, coordinator })
        {
            stopped.Output.ShouldContain("stopping (asked to)"); // SIGTERM is a stop, not a removal to recover from
            stopped.Output.ShouldNotContain("joining again");
            stopped.Output.ShouldNotContain("starting again");
        }

        var started = new[] { first, second }
            .SelectMany(node => Regex.Matches(node.Output, @"slot \d+: starting (\S+)").Select(m => (Node: node, Job: m.Groups[1].Value)))
            .ToList();
        var jobs = File.ReadAllLines(results).Skip(1).Select(line => line.Split(',')[0]).ToList();
        jobs.Count.ShouldBe(1 + 2 + 1 + 3 * 2 + 2); // teacher, two soft-target shards, their aggregation, students, a baseline per seed
        started.Select(s => s.Job).Order().ShouldBe(jobs.Order()); // every job started once, on one node
        started.Select(s => s.Node).Distinct().Count().ShouldBe(2, "both nodes took work");
        File.ReadAllLines(results).Skip(1).ShouldAllBe(line => line.Split(',')[2] == "done");
        coordinator.Output.ShouldContain("mp-sweep: best recipe on val_accuracy");
        coordinator.Output.ShouldContain("mp-sweep: soft targets soft-targets-");
        Directory.GetFiles(store, "*.soft").Length.ShouldBe(1); // written by a node, into the store the coordinator named
    }

    [Fact]
    public async Task A_gpu_node_whose_coordinator_does_not_answer_says_so_in_one_line_without_akkas_raw_warnings()
    {
        int nobody = Loopback.FreePort(); // nothing listens there
        using var node = RunningProcess.Start("gpunode", "--seed-nodes", $"akka.tcp://orchestrator@127.0.0.1:{nobody}", "--devices", "cpu", "--name", "alone");
        await node.WaitForOutput($"alone: no coordinator answers at akka.tcp://orchestrator@127.0.0.1:{nobody}", TimeSpan.FromMinutes(1));
        node.Output.ShouldNotContain("AssociationError");
        node.Output.ShouldNotContain("gated");
        (await node.TerminateAsync()).ShouldBe(0, node.Output);
        node.Output.ShouldContain("alone: stopping (asked to)");
    }

    [Fact]
    public async Task A_gpu_node_killed_with_sigkill_leaves_no_worker_training_behind()
    {
        string directory = TestData.TemporaryDirectory();
        string sweep = OneTrialSweep("orphan", epochs: 500);
        int port = Loopback.FreePort();
        using var coordinator = RunningProcess.Start("serve", "--port", port.ToString(), "--grpc-port", Loopback.FreePort().ToString(),
            "--out", directory, "--sweep", sweep);
        using var node = RunningProcess.Start("gpunode", "--seed-nodes", $"akka.tcp://orchestrator@127.0.0.1:{port}", "--devices", "cpu");
        await node.WaitForOutput("starting", TimeSpan.FromMinutes(1));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        int[] workers;
        while ((workers = Processes.ChildrenOf(node.Process.Id)).Length == 0)
        {
            DateTime.UtcNow.ShouldBeLessThan(deadline, "the node started no worker process\n" + node.Output);
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        node.Process.Kill(); // SIGKILL: the node cannot tell its worker anything
        foreach (int pid in workers)
            (await Processes.EndsAsync(pid, TimeSpan.FromSeconds(30))).ShouldBeTrue("the worker kept training for a node that is gone");
    }

    [Fact]
    public async Task A_coordinator_killed_with_sigkill_and_restarted_gets_its_node_back_and_the_sweep_completes_with_every_epoch_once()
    {
        string directory = TestData.TemporaryDirectory();
        string sweep = OneTrialSweep("restart", epochs: 60);
        int port = Loopback.FreePort(), grpcPort = Loopback.FreePort();
        string[] serve = ["serve", "--port", port.ToString(), "--grpc-port", grpcPort.ToString(), "--out", directory, "--sweep", sweep];
        var coordinator = RunningProcess.Start(serve);
        using var node = RunningProcess.Start("gpunode", "--seed-nodes", $"akka.tcp://orchestrator@127.0.0.1:{port}", "--devices", "cpu");
        string trials = Path.Combine(directory, "restart", "trials");
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (!Directory.Exists(trials) || Directory.GetFiles(trials, "metrics.jsonl", SearchOption.AllDirectories).Sum(f => File.ReadAllLines(f).Length) < 5)
        {
            DateTime.UtcNow.ShouldBeLessThan(deadline, $"no epochs; coordinator:\n{coordinator.Output}\nnode:\n{node.Output}");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        coordinator.Process.Kill(); // SIGKILL mid-trial, then restarted at once with the same flags, as Kubernetes restarts a pod
        await coordinator.Process.WaitForExitAsync(TestContext.Current.CancellationToken);
        string before = coordinator.Output;
        coordinator.Dispose();
        using var restarted = RunningProcess.Start(serve);

        string results = Path.Combine(directory, "restart", "results.csv");
        await WaitForResults(results, TimeSpan.FromMinutes(8), restarted, () => $"first coordinator:\n{before}\nrestarted:\n{restarted.Output}\nnode:\n{node.Output}");
        node.Output.ShouldContain("joining again");
        File.ReadAllLines(results).Skip(1).ShouldAllBe(line => line.Split(',')[2] == "done");
        foreach (string metrics in Directory.GetFiles(trials, "metrics.jsonl", SearchOption.AllDirectories))
            Epochs(metrics).ShouldBe(Enumerable.Range(1, 60), metrics); // resumed from the checkpoint: no epoch lost, none twice
        (await node.TerminateAsync()).ShouldBe(0, node.Output);
        (await restarted.TerminateAsync()).ShouldBe(0, restarted.Output);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_node_stopped_with_sigstop_leaves_its_trial_to_another_and_after_sigcont_changes_nothing_it_finished(bool withItsWorker)
    {
        string directory = TestData.TemporaryDirectory();
        string sweep = OneTrialSweep("sigstop", epochs: 60);
        int port = Loopback.FreePort();
        string seed = $"akka.tcp://orchestrator@127.0.0.1:{port}";
        using var coordinator = RunningProcess.Start("serve", "--port", port.ToString(), "--grpc-port", Loopback.FreePort().ToString(), "--out", directory, "--sweep", sweep);
        using var stopped = RunningProcess.Start("gpunode", "--seed-nodes", seed, "--devices", "cpu", "--name", "stopped");
        await stopped.WaitForOutput("slot 0: starting", TimeSpan.FromMinutes(1));
        using var other = RunningProcess.Start("gpunode", "--seed-nodes", seed, "--devices", "cpu", "--name", "other");
        await other.WaitForOutput("slot(s)", TimeSpan.FromMinutes(1));
        string trials = Path.Combine(directory, "sigstop", "trials");
        var deadline = DateTime.UtcNow.AddMinutes(1);
        // "slot 0: starting" comes before the trial's folder exists: wait for the folder, then for 3 epochs in it.
        while (!Directory.Exists(trials) || Directory.GetFiles(trials, "metrics.jsonl", SearchOption.AllDirectories) is not [var metrics] || File.ReadAllLines(metrics).Length < 3)
        {
            DateTime.UtcNow.ShouldBeLessThan(deadline, stopped.Output);
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
        int[] workers = Processes.ChildrenOf(stopped.Process.Id);
        Signal("STOP", stopped.Process.Id);
        if (withItsWorker) // a stopped pod or machine: the worker goes on from the middle of its batch after SIGCONT, as its node does
            foreach (int pid in workers) Signal("STOP", pid);
        else // the node only: its worker hears nothing more from it
            foreach (int pid in workers)
                (await Processes.EndsAsync(pid, TimeSpan.FromSeconds(60))).ShouldBeTrue("the worker kept training for a node that is stopped"); // not when its pipe fills
        string results = Path.Combine(directory, "sigstop", "results.csv");
        await WaitForResults(results, TimeSpan.FromMinutes(8), coordinator, () => $"coordinator:\n{coordinator.Output}\nother:\n{other.Output}");
        other.Output.ShouldContain("slot 0: starting"); // it took the trial over
        var finished = Results(trials).ToDictionary(f => f, File.ReadAllBytes);

        Signal("CONT", stopped.Process.Id);
        if (withItsWorker) foreach (int pid in workers) Signal("CONT", pid); // its attempt was superseded: the fence stops it before it writes
        await stopped.WaitForOutput("joining again", TimeSpan.FromMinutes(1)); // downed while stopped: it rejoins
        await NoneRuns(workers); // the only processes that could still write its old attempt's files
        Results(trials).Order().ShouldBe(finished.Keys.Order());
        foreach (var (file, bytes) in finished) File.ReadAllBytes(file).ShouldBe(bytes, file); // nothing it finished was touched
        Epochs(finished.Keys.Single(f => f.EndsWith("metrics.jsonl"))).ShouldBe(Enumerable.Range(1, 60));
    }

    [Fact]
    public async Task A_sweep_with_a_teacher_stored_views_and_baselines_survives_its_coordinator_killed_and_a_training_node_stopped()
    {
        string directory = TestData.TemporaryDirectory();
        const int StudentEpochs = 40;
        string sweep = TestData.WriteFile("kd-faults.yaml", $$"""
            name: kd-faults
            dataset: { name: synthetic, validation: 200 }
            teacher: { model: mlp-64, epochs: 3 }
            soft_targets: { shards: 2, views: 2 }
            student: { model: mlp-1200-1200, epochs: {{StudentEpochs}}, augment: { jitter: 1 }, loss: { terms: [ce, hinton], alpha: 0.5 } }
            seeds: [1]
            """);
        int port = Loopback.FreePort();
        string seed = $"akka.tcp://orchestrator@127.0.0.1:{port}";
        string[] serve = ["serve", "--port", port.ToString(), "--grpc-port", Loopback.FreePort().ToString(), "--out", directory, "--sweep", sweep,
            "--soft-targets", Path.Combine(directory, "soft-targets")];
        var coordinator = RunningProcess.Start(serve);
        using var first = RunningProcess.Start("gpunode", "--seed-nodes", seed, "--devices", "cpu", "--name", "first");
        using var second = RunningProcess.Start("gpunode", "--seed-nodes", seed, "--devices", "cpu", "--name", "second");
        string trials = Path.Combine(directory, "kd-faults", "trials");
        int EpochsWritten() => Directory.Exists(trials)
            ? Directory.GetFiles(trials, "metrics.jsonl", SearchOption.AllDirectories).Where(f => !f.Contains("teacher-")).Sum(f => File.ReadAllLines(f).Length) : 0;
        async Task WaitForEpochs(int count, Func<string> describe)
        {
            var deadline = DateTime.UtcNow.AddMinutes(3);
            while (EpochsWritten() < count)
            {
                DateTime.UtcNow.ShouldBeLessThan(deadline, $"no student epochs; {describe()}");
                await Task.Delay(100, TestContext.Current.CancellationToken);
            }
        }

        // SIGKILL once the distilled student (it waits for the teacher and its soft targets) and the baseline train.
        await WaitForEpochs(4, () => $"coordinator:\n{coordinator.Output}\nfirst:\n{first.Output}\nsecond:\n{second.Output}");
        coordinator.Process.Kill();
        await coordinator.Process.WaitForExitAsync(TestContext.Current.CancellationToken);
        string before = coordinator.Output;
        coordinator.Dispose();
        using var restarted = RunningProcess.Start(serve);

        // Then SIGSTOP a node in the middle of its trial, with its worker (a stopped machine): the other takes the trial over.
        await WaitForEpochs(EpochsWritten() + 4, () => $"first coordinator:\n{before}\nrestarted:\n{restarted.Output}");
        var (stopped, workers) = new[] { first, second }.Select(n => (Node: n, Workers: Processes.ChildrenOf(n.Process.Id))).First(n => n.Workers.Length > 0);
        string training = Regex.Matches(stopped.Output, @"slot \d+: starting (\S+)").Last().Groups[1].Value;
        Signal("STOP", stopped.Process.Id);
        foreach (int pid in workers) Signal("STOP", pid);
        string results = Path.Combine(directory, "kd-faults", "results.csv");
        await WaitForResults(results, TimeSpan.FromMinutes(8), restarted, () => $"first coordinator:\n{before}\nrestarted:\n{restarted.Output}\nfirst:\n{first.Output}\nsecond:\n{second.Output}");
        var finished = Results(trials).ToDictionary(f => f, File.ReadAllBytes);
        Signal("CONT", stopped.Process.Id);
        foreach (int pid in workers) Signal("CONT", pid);
        await stopped.WaitForOutput("joining again", TimeSpan.FromMinutes(1));
        await NoneRuns(workers);

        (stopped == first ? second : first).Output.ShouldContain($"starting {training}"); // it took the stopped node's trial over
        var rows = File.ReadAllLines(results).Skip(1).Select(line => line.Split(',')).ToList();
        rows.Select(r => r[1]).Order().ShouldBe(["baseline", "soft-target-shard", "soft-target-shard", "soft-targets", "student", "teacher"]);
        rows.ShouldAllBe(r => r[2] == "done");
        foreach (string metrics in Directory.GetFiles(trials, "metrics.jsonl", SearchOption.AllDirectories).Where(f => !f.Contains("teacher-")))
            Epochs(metrics).ShouldBe(Enumerable.Range(1, StudentEpochs), metrics); // resumed from checkpoints twice: no epoch lost, none twice
        Results(trials).Order().ShouldBe(finished.Keys.Order());
        foreach (var (file, bytes) in finished) File.ReadAllBytes(file).ShouldBe(bytes, file); // the stopped node, continued, touched nothing
        (await restarted.TerminateAsync()).ShouldBe(0, restarted.Output);
    }

    /// <summary>A sweep of one synthetic student trial, long enough to be caught mid-run.</summary>
    static string OneTrialSweep(string name, int epochs) => TestData.WriteFile($"{name}.yaml", $$"""
        name: {{name}}
        dataset: { name: synthetic, validation: 200 }
        student: { model: mlp-1200-1200, epochs: {{epochs}} }
        seeds: [1]
        """);

    /// <summary>The epochs a trial's metrics.jsonl holds, in order.</summary>
    /// <summary>
    /// Every file the trials wrote, without the temporary files of writes under way (AtomicFile's ".name.guid.tmp"): a
    /// stopped worker may hold one open mid-write, locked, and removes it once it runs again and finds itself superseded.
    /// </summary>
    static IEnumerable<string> Results(string trials) =>
        Directory.GetFiles(trials, "*", SearchOption.AllDirectories).Where(f => !(Path.GetFileName(f).StartsWith('.') && f.EndsWith(".tmp", StringComparison.Ordinal)));

    static IEnumerable<int> Epochs(string metrics) =>
        File.ReadAllLines(metrics).Select(l => Google.Protobuf.JsonParser.Default.Parse<Protocol.V1.EpochMetrics>(l).Epoch);

    /// <summary>
    /// Waits until the coordinator has written the sweep's results (it completed); fails with <paramref name="describe"/>
    /// when the coordinator exits or <paramref name="timeout"/> passes: a hang, not a slow machine (other tests train beside it).
    /// </summary>
    static async Task WaitForResults(string results, TimeSpan timeout, RunningProcess coordinator, Func<string> describe)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!File.Exists(results))
        {
            DateTime.UtcNow.ShouldBeLessThan(deadline, $"no results; {describe()}");
            coordinator.Process.HasExited.ShouldBeFalse(describe());
            await Task.Delay(200, TestContext.Current.CancellationToken);
        }
    }

    static void Signal(string signal, int pid)
    {
        using var kill = System.Diagnostics.Process.Start("kill", [$"-{signal}", pid.ToString()])!;
        kill.WaitForExit();
    }

    /// <summary>Waits (a minute at most) until each of these processes has ended.</summary>
    static async Task NoneRuns(int[] pids)
    {
        foreach (int pid in pids) (await Processes.EndsAsync(pid, TimeSpan.FromMinutes(1))).ShouldBeTrue($"process {pid} still runs");
    }
}
