using Orchestrator.Coordinator.Api;
using Orchestrator.Protocol.V1;
using Shouldly;

namespace Orchestrator.Coordinator.Tests;

public class WatchHubTests
{
    static WatchEvent Event(string sweep) => new() { Sweep = new SweepStateChanged { SweepId = sweep, Change = SweepChange.Submitted } };

    [Fact]
    public void Events_get_consecutive_cursors_and_are_read_after_a_cursor_in_batches()
    {
        var hub = new WatchHub(capacity: 100);
        for (int i = 0; i < 10; i++) hub.Append(Event($"s{i}")).ShouldBe(i + 1);
        hub.Head.ShouldBe(10);
        var (first, resume) = hub.Read(after: 3, max: 4);
        resume.ShouldBeNull();
        first.Select(e => e.Cursor).ShouldBe([4L, 5, 6, 7]);
        hub.Read(after: 7, max: 100).Events.Select(e => e.Sweep.SweepId).ShouldBe(["s7", "s8", "s9"]);
        hub.Read(after: 10, max: 100).Events.ShouldBeEmpty();
    }

    [Fact]
    public void A_watcher_further_behind_than_the_ring_holds_is_told_where_to_resume_and_nothing_grows()
    {
        var hub = new WatchHub(capacity: 10);
        for (int i = 0; i < 25; i++) hub.Append(Event("s"));
        hub.Read(after: 15, max: 100).Events.Select(e => e.Cursor).ShouldBe(Enumerable.Range(16, 10).Select(c => (long)c)); // the 10 held
        var (events, resume) = hub.Read(after: 14, max: 100); // event 15 is gone
        events.ShouldBeEmpty();
        resume.ShouldBe(25);
        hub.Read(after: 99, max: 100).ResumeFrom.ShouldBe(25); // a cursor of an earlier run of the coordinator
    }

    [Fact]
    public async Task Waiting_ends_when_an_event_arrives_after_the_cursor()
    {
        var hub = new WatchHub(capacity: 10);
        hub.Append(Event("s"));
        hub.WaitAfter(0, TestContext.Current.CancellationToken).IsCompleted.ShouldBeTrue();
        var waiting = hub.WaitAfter(1, TestContext.Current.CancellationToken);
        await Task.Delay(50, TestContext.Current.CancellationToken);
        waiting.IsCompleted.ShouldBeFalse();
        hub.Append(Event("s"));
        await waiting.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
    }
}
