using System.Text.Json.Nodes;
using Google.Protobuf;
using Orchestrator.Coordinator.Cluster;
using Orchestrator.Coordinator.Planning;
using Orchestrator.Coordinator.State;
using Orchestrator.Protocol.V1;
using Orchestrator.Tests;
using Shouldly;
using PlannedJob = Orchestrator.Protocol.V1.PlannedJob;

namespace Orchestrator.Coordinator.Tests;

/// <summary>How a sweep's plan is persisted: one template per job kind, each job as its overrides, in events of bounded size.</summary>
public sealed class PlanStorageTests
{
    /// <summary>The document without its null members: what a merge patch cannot tell from a missing one, and the records read alike.</summary>
    static JsonNode? WithoutNulls(JsonNode? node)
    {
        if (node is JsonObject members)
        {
            var kept = new JsonObject();
            foreach (var (name, value) in members)
                if (value is not null) kept[name] = WithoutNulls(value);
            return kept;
        }
        return node is JsonArray items ? new JsonArray(items.Select(WithoutNulls).ToArray()) : node?.DeepClone();
    }

    static void ShouldBeTheSameWork(string actual, string expected) =>
        JsonNode.DeepEquals(WithoutNulls(JsonNode.Parse(actual)), WithoutNulls(JsonNode.Parse(expected))).ShouldBeTrue($"{actual}\nis not\n{expected}");

    [Fact]
    public void Every_job_of_every_example_sweep_reads_back_its_whole_work_from_its_template_and_overrides()
    {
        int checkedJobs = 0;
        foreach (string file in SweepFileTests.ExampleStudents.Keys.Select(name => Path.Combine(TestData.RepositoryRoot(), "examples", "sweeps", name)))
        {
            var plan = SweepPlanner.Plan(SweepFile.Load(file), TestData.TemporaryDirectory());
            var submit = SweepSubmission.From(plan, "/store");
            var state = new SweepState(submit.SweepId);
            foreach (var e in state.Decide(submit).Events) state.Apply(e);
            foreach (var job in submit.Jobs)
            {
                ShouldBeTheSameWork(state.Spec(job.JobId).WorkJson, job.WorkJson);
                checkedJobs++;
            }
        }
        checkedJobs.ShouldBeGreaterThan(100);
    }

    [Fact]
    public void A_large_plan_is_persisted_in_events_of_at_most_a_megabyte_and_reads_back_whole()
    {
        // 20,000 trials of 1.5 KB each (30 MB as planned): one event of the old kind would have been 30 MB.
        string padding = new('x', 1200);
        var submit = new SubmitSweep { SweepId = "big", Name = "big", OutputRoot = "/out", Metric = "val_accuracy" };
        submit.Jobs.Add(new PlannedJob { JobId = "teacher", Kind = JobKind.Teacher, WorkJson = $$"""{"Name":"teacher","Model":{"Name":"mlp-1200-1200"},"Notes":"{{padding}}"}""" });
        for (int i = 0; i < 20_000; i++)
            submit.Jobs.Add(new PlannedJob
            {
                JobId = $"trial-{i:D5}", Kind = JobKind.Student, DependsOn = { "teacher" }, Parameters = { ["alpha"] = $"{i % 10 / 10.0}" },
                WorkJson = $$"""{"Name":"trial-{{i}}","Loss":{"Alpha":{{i % 10 / 10.0}},"Temperature":{{1 + i % 7}}},"Training":{"Seed":{{i % 3}},"Epochs":20},"Notes":"{{padding}}","Teacher":null}""",
            });
        var state = new SweepState("big");
        var decision = state.Decide(submit);
        decision.Events.Count.ShouldBeGreaterThan(1);
        decision.Events.ShouldAllBe(e => e.CalculateSize() <= PlanEvents.MaxPlanEventBytes);
        decision.Events.Sum(e => e.CalculateSize()).ShouldBeLessThan(submit.CalculateSize() / 5); // the shared settings stored once
        decision.Events[0].ShouldBeOfType<SweepSubmitted>().Sweep.Templates.Count.ShouldBe(2); // one per kind

        var replayed = new SweepState("big");
        foreach (var e in decision.Events) replayed.Apply(SweepParse(e));
        replayed.JobCount.ShouldBe(20_001);
        foreach (int i in new[] { 0, 1, 9_999, 19_999 })
            ShouldBeTheSameWork(replayed.Spec($"trial-{i:D5}").WorkJson, submit.Jobs[i + 1].WorkJson);
        replayed.Runnable().ShouldBe(["teacher"]);
        replayed.Decide(new JobFinished { SweepId = "big", JobId = "teacher", Summary = new TrialSummary { Status = TrialStatus.Completed } })
            .HandOver.Count.ShouldBe(20_000); // every trial found its dependency, whichever chunk it came in
    }

    /// <summary>The event as the journal gives it back: serialized and parsed.</summary>
    static IMessage SweepParse(IMessage e) => e.Descriptor.Parser.ParseFrom(e.ToByteArray());
}
