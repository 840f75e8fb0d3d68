using Google.Protobuf;
using Orchestrator.Coordinator.Cluster;
using Orchestrator.Coordinator.State;
using Orchestrator.Protocol.V1;
using Shouldly;

namespace Orchestrator.Coordinator.Tests;

/// <summary>The plan held as its persisted bytes: what is read in place, and what a parse of one job gives back.</summary>
public sealed class PlanChunkTests
{
    static readonly PlannedJob[] Jobs =
    [
        new() { JobId = "teacher-é", Kind = JobKind.Teacher, WorkJson = "{\"model\":\"mlp-1200\"}", Epochs = 20 },
        new()
        {
            JobId = "trial-0001-s2", Kind = JobKind.Student, Seed = 2, Epochs = 10, Template = 1, OverridesJson = "{\"alpha\":0.5}", DependsOn = { "teacher-é", "soft" },
            Parameters = { ["alpha"] = "0.5", ["temperature"] = "4" },
        },
        new() { JobId = "trial-0002-s2", Kind = JobKind.Student, Parameters = { ["alpha"] = "0.9", ["lr"] = "0.1" } },
    ];

    [Fact]
    public void Each_job_is_found_in_place_with_its_id_kind_and_dependencies_and_parses_back_whole()
    {
        var chunk = PlanChunk.Of(Jobs);
        var names = new SortedSet<string>(StringComparer.Ordinal);
        var entries = chunk.Entries(names);

        entries.Select(e => (e.Id, e.Kind)).ShouldBe([("teacher-é", JobKind.Teacher), ("trial-0001-s2", JobKind.Student), ("trial-0002-s2", JobKind.Student)]);
        entries[0].DependsOn.ShouldBeEmpty();
        entries[1].DependsOn.ShouldBe(["teacher-é", "soft"]);
        names.ShouldBe(["alpha", "lr", "temperature"]);
        entries.Select(e => chunk.Job(e)).ShouldBe(Jobs);
        chunk.Job(entries[1]).ShouldNotBeSameAs(chunk.Job(entries[1])); // a fresh message each time: no caller changes another's
        new PlanChunk(chunk.Bytes.ToByteArray()).Entries(names).Select(e => (e.Offset, e.Length, e.Id)).ShouldBe(entries.Select(e => (e.Offset, e.Length, e.Id))); // as a snapshot restores it
    }

    [Fact]
    public void A_chunk_cut_short_is_refused_as_corrupt()
    {
        byte[] bytes = PlanChunk.Of(Jobs).Bytes.ToByteArray();
        Should.Throw<InvalidDataException>(() => new PlanChunk(bytes[..^3]).Entries(new HashSet<string>())).Message.ShouldContain("the plan is corrupt");
        Should.Throw<InvalidDataException>(() => new PlanChunk([0x0A, 0xFF]).Entries(new HashSet<string>()));
    }
}
