using Google.Protobuf;
using Orchestrator.Coordinator.Cluster;
using Orchestrator.Coordinator.Planning;
using Orchestrator.Coordinator.Search;
using Orchestrator.Coordinator.State;
using Orchestrator.Distillation;
using Orchestrator.Protocol.V1;
using Orchestrator.Tests;
using Shouldly;

namespace Orchestrator.Coordinator.Tests;

/// <summary>method: bayes on the sweep's state machine: proposals pulled by free slots, persisted, and the same after a restart.</summary>
public sealed class BayesSweepTests
{
    const string SweepText = """
        name: bayes
        dataset: { name: synthetic, validation: 200 }
        student: { model: mlp-16, epochs: 2, device: cpu }
        method: bayes
        run_cap: 16
        sampling_seed: 7
        parameters:
          lr: { min: 0.0001, max: 0.1, distribution: log_uniform_values }
          student.model.dropout: { min: 0.0, max: 0.5 }
          batch_size: { values: [16, 32, 64] }
        seeds: [1, 2]
        """;

    static SubmitSweep Submitted(string text = SweepText)
    {
        string directory = TestData.TemporaryDirectory();
        var plan = SweepPlanner.Plan(SweepFile.Parse(text, Path.Combine(directory, "sweep.yaml")), directory);
        return SweepSubmission.From(plan, Path.Combine(directory, "soft-targets"));
    }

    static void Run(SweepState state, IReadOnlyList<IMessage> events)
    {
        foreach (var e in events) state.Apply(e);
    }

    /// <summary>A synthetic objective of a student's work: best at lr 0.01, dropout 0.3, batch 32.</summary>
    static double Objective(JobStatus job)
    {
        double lr = double.Parse(job.Parameters["lr"]), dropout = double.Parse(job.Parameters["student.model.dropout"]);
        return 1 - Math.Pow(Math.Log10(lr) + 2, 2) / 4 - Math.Pow(dropout - 0.3, 2) - (job.Parameters["batch_size"] == "32" ? 0 : 0.1) + job.Seed * 0.001;
    }

    /// <summary>Starts and finishes every runnable job, students scoring <see cref="Objective"/>, in plan order.</summary>
    static void RunAll(SweepState state)
    {
        foreach (string id in state.Runnable())
        {
            Run(state, state.Decide(new JobAssigned { SweepId = state.SweepId, JobId = id, Node = "n" }).Events);
            double value = Objective(state.StatusOf(id));
            Run(state, state.Decide(new JobFinished { SweepId = state.SweepId, JobId = id,
                Summary = new TrialSummary { Status = TrialStatus.Completed, BestEpoch = 2, BestValidationAccuracy = value, TestAccuracy = value } }).Events);
        }
    }

    static Decision Propose(SweepState state, BayesPlanner planner, int slots)
    {
        var decision = state.Decide(new ProposeJobs { SweepId = state.SweepId, FreeSlots = slots }, planner);
        Run(state, decision.Events);
        return decision;
    }

    [Fact]
    public void A_bayes_sweep_plans_nothing_up_front_proposes_for_free_slots_and_completes_at_run_cap()
    {
        var submit = Submitted();
        (submit.Jobs.Count, submit.Bayes.RunCap, submit.Bayes.SamplingSeed).ShouldBe((0, 16, 7));
        var state = new SweepState("bayes");
        Run(state, state.Decide(submit).Events);
        (state.Complete, state.MayPropose).ShouldBe((false, true));
        var planner = BayesPlanning.For(state.Sweep!.Bayes, state.Sweep.OutputRoot);

        var first = Propose(state, planner, slots: 5); // two points of two seeds fill 4 of the 5 slots
        first.Events.OfType<PointProposed>().Count().ShouldBe(2);
        first.HandOver.Count.ShouldBe(4);
        ((NoProposal)first.Reply!).Done.ShouldBeFalse();
        // Its jobs wait for slots: nothing more is proposed until they run.
        var waiting = state.Decide(new ProposeJobs { SweepId = "bayes", FreeSlots = 5 }, planner);
        (waiting.Events.Count, ((NoProposal)waiting.Reply!).Done).ShouldBe((0, false));

        while (state.MayPropose)
        {
            RunAll(state);
            Propose(state, planner, slots: 4);
        }
        RunAll(state);
        (state.Proposals, state.Complete, state.Count(JobState.Done)).ShouldBe((16, true, 32));
        ((NoProposal)state.Decide(new ProposeJobs { SweepId = "bayes", FreeSlots = 4 }, planner).Reply!).Done.ShouldBeTrue();
        state.Best()!.MetricMean.ShouldBeGreaterThan(0.85); // random draws of this space average about 0.5
    }

    [Fact]
    public void With_prior_its_first_proposal_already_uses_the_earlier_sweeps_points_and_lands_near_their_best()
    {
        var earlier = new SweepState("bayes");
        Run(earlier, earlier.Decide(Submitted()).Events);
        var earlierPlanner = BayesPlanning.For(earlier.Sweep!.Bayes, earlier.Sweep.OutputRoot);
        while (earlier.MayPropose) { Propose(earlier, earlierPlanner, slots: 4); RunAll(earlier); }
        var priorStatus = earlier.Status();
        var best = earlier.Best()!;

        string warmText = SweepText.Replace("name: bayes", "name: bayes-warm").Replace("run_cap: 16", "run_cap: 16\nprior: [bayes]");
        string coldText = SweepText.Replace("name: bayes", "name: bayes-cold");
        var warm = Submitted(warmText);
        var definition = SweepFile.Parse(warmText, "warm.yaml");
        definition.Prior.ShouldBe(["bayes"]);
        warm.Bayes.Prior.Add(PriorPoints.From(definition, priorStatus)); // what SweepRegion.Submit adds from the sweep it names
        warm.Bayes.Prior.Count.ShouldBe(16); // every finished point: the same space
        warm.Bayes.Prior.Max(p => p.Objectives[0]).ShouldBe(best.MetricMean);

        IReadOnlyList<double> FirstProposal(SubmitSweep submit)
        {
            var state = new SweepState(submit.SweepId);
            Run(state, state.Decide(submit).Events);
            return Propose(state, BayesPlanning.For(state.Sweep!.Bayes, state.Sweep.OutputRoot), slots: 2).Events.OfType<PointProposed>().Single().Values;
        }
        var withPrior = FirstProposal(warm);
        var without = FirstProposal(Submitted(coldText));
        withPrior.ShouldNotBe(without);
        // Random draws of this space score about 0.5; the prior's best scores above 0.9: its first proposal is near it.
        double Score(IReadOnlyList<double> v) => 1 - Math.Pow(Math.Log10(v[0]) + 2, 2) / 4 - Math.Pow(v[1] - 0.3, 2) - (v[2] == 1 ? 0 : 0.1);
        Score(withPrior).ShouldBeGreaterThan(0.8, $"first proposal {string.Join(", ", withPrior)}; the prior's best {best.MetricMean:F3}");
    }

    [Fact]
    public void A_prior_sweep_of_another_space_or_metric_gives_no_points_or_a_clear_error()
    {
        var earlier = new SweepState("bayes");
        Run(earlier, earlier.Decide(Submitted()).Events);
        var planner = BayesPlanning.For(earlier.Sweep!.Bayes, earlier.Sweep.OutputRoot);
        Propose(earlier, planner, slots: 4);
        RunAll(earlier);
        var narrower = SweepFile.Parse(SweepText.Replace("values: [16, 32, 64]", "values: [128, 256]") + "\nprior: [bayes]\n", "narrow.yaml");
        PriorPoints.From(narrower, earlier.Status()).ShouldBeEmpty(); // its batch sizes are none of these
        var byLoss = SweepFile.Parse(SweepText + "\nmetric: { name: val_loss, goal: minimize }\nprior: [bayes]\n", "loss.yaml");
        Should.Throw<UserInputException>(() => PriorPoints.From(byLoss, earlier.Status())).Message.ShouldContain("was ranked on val_accuracy and this one on val_loss");
        Should.Throw<UserInputException>(() => SweepFile.Parse(SweepText.Replace("method: bayes", "method: random") + "\nprior: [bayes]\n", "random.yaml"))
            .Message.ShouldContain("prior: feeds earlier sweeps' results to bayes search");
    }

    [Fact]
    public void With_two_objectives_it_proposes_by_multi_objective_tpe_and_ends_with_a_front_of_the_trade_off()
    {
        var state = new SweepState("bayes");
        Run(state, state.Decide(Submitted(SweepText + "\nmetric: [val_accuracy, latency_ms]\n")).Events);
        var planner = BayesPlanning.For(state.Sweep!.Bayes, state.Sweep.OutputRoot);
        // Latency grows with the batch size and falls with dropout: a trade-off against the objective's optimum.
        static double Latency(JobStatus job) => int.Parse(job.Parameters["batch_size"]) / 16.0 - double.Parse(job.Parameters["student.model.dropout"]);
        void RunAllWithLatency()
        {
            foreach (string id in state.Runnable())
            {
                Run(state, state.Decide(new JobAssigned { SweepId = state.SweepId, JobId = id, Node = "n" }).Events);
                var job = state.StatusOf(id);
                Run(state, state.Decide(new JobFinished { SweepId = state.SweepId, JobId = id, Summary = new TrialSummary
                {
                    Status = TrialStatus.Completed, BestEpoch = 2, BestValidationAccuracy = Objective(job), TestAccuracy = Objective(job),
                    Cost = new ModelCost { LatencyMsBatch1 = Latency(job), LatencyRunsBatch1 = 20 },
                } }).Events);
            }
        }
        while (state.MayPropose)
        {
            RunAllWithLatency();
            Propose(state, planner, slots: 4);
        }
        RunAllWithLatency();
        (state.Proposals, state.Complete).ShouldBe((16, true));
        var front = state.Front();
        front.ShouldNotBeEmpty();
        // No point of the front is dominated by any point of the sweep.
        var all = state.Status().Jobs.Where(j => j.Kind == JobKind.Student).GroupBy(j => string.Join(",", j.Parameters.OrderBy(p => p.Key)))
            .Select(g => (Accuracy: g.Average(Objective), Latency: g.Average(Latency))).ToList();
        foreach (var point in front)
            all.ShouldNotContain(p => p.Accuracy > point.Measures["val_accuracy"] + 1e-12 && p.Latency < point.Measures["latency_ms"] - 1e-12);
    }

    [Fact]
    public void The_same_results_in_the_same_order_give_the_same_proposals_and_a_restored_snapshot_goes_on_from_them()
    {
        SweepState Fresh(out BayesPlanner planner)
        {
            var state = new SweepState("bayes");
            Run(state, state.Decide(Submitted()).Events);
            planner = BayesPlanning.For(state.Sweep!.Bayes, state.Sweep.OutputRoot);
            return state;
        }
        var one = Fresh(out var onePlanner);
        var two = Fresh(out var twoPlanner);
        for (int round = 0; round < 7; round++) // past the 10 start-up points: the estimator's proposals
        {
            Propose(one, onePlanner, 4).Events.ShouldBe(Propose(two, twoPlanner, 4).Events);
            RunAll(one);
            RunAll(two);
        }

        var restored = new SweepState("bayes");
        restored.Restore(SweepSnapshot.Parser.ParseFrom(one.Snapshot().ToByteArray()));
        restored.Status().ShouldBe(one.Status());
        restored.Proposals.ShouldBe(one.Proposals);
        Propose(restored, BayesPlanning.For(restored.Sweep!.Bayes, restored.Sweep.OutputRoot), 4).Events.ShouldBe(Propose(one, onePlanner, 4).Events);
    }

    [Fact]
    public void Running_points_make_the_proposals_for_several_slots_differ()
    {
        var state = new SweepState("bayes");
        Run(state, state.Decide(Submitted()).Events);
        var planner = BayesPlanning.For(state.Sweep!.Bayes, state.Sweep.OutputRoot);
        for (int i = 0; i < 6; i++) { Propose(state, planner, 4); RunAll(state); } // 12 finished points
        var batch = Propose(state, planner, 8).Events.OfType<PointProposed>().ToList();
        batch.Count.ShouldBe(4);
        batch.Select(p => p.Point).Distinct().Count().ShouldBe(4);
    }

    [Theory]
    [InlineData("run_cap: 16\n", "", "run_cap: bayes search needs run_cap: the number of parameter points to propose")]
    [InlineData("  batch_size: { values: [16, 32, 64] }", "  batch_size: { values: [16, 32, 0] }", "10:34: batch_size: must be between 1 and 65536")]
    [InlineData("  student.model.dropout: { min: 0.0, max: 0.5 }", "  student.model.dropout: { min: 0.0, max: 1.5 }", "dropout 1.5 must be")]
    [InlineData("  student.model.dropout: { min: 0.0, max: 0.5 }", "  teacher.epochs: { values: [1, 2] }", "9:19: parameters.teacher.epochs: bayes proposes student settings only")]
    public void A_bad_bayes_sweep_is_refused_at_its_line_before_any_point_is_proposed(string find, string replace, string message)
    {
        SweepText.ShouldContain(find);
        var error = Should.Throw<UserInputException>(() => Submitted(SweepText.Replace(find, replace)));
        error.Message.ShouldContain(message);
    }
}
