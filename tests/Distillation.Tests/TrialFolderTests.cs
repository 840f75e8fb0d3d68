using Orchestrator.Distillation.Trials;
using Orchestrator.Tests;
using Shouldly;
using Proto = Orchestrator.Protocol.V1;

namespace Orchestrator.Distillation.Tests;

public sealed class TrialFolderTests
{
    [Fact]
    public void Metrics_read_back_as_written_and_a_line_cut_short_by_a_crash_ends_them()
    {
        var folder = new TrialFolder(TestData.TemporaryDirectory());
        folder.ReadEpochs().ShouldBeEmpty();
        folder.RewriteEpochs([new Proto.EpochMetrics { Epoch = 1, ValidationAccuracy = 0.5 }], check: null);
        folder.AppendEpoch(new Proto.EpochMetrics { Epoch = 2, ValidationAccuracy = 0.75 });
        File.AppendAllText(folder.Metrics, "{\"epoch\": 3, \"validation_acc");
        folder.ReadEpochs().Select(e => (e.Epoch, e.ValidationAccuracy)).ShouldBe([(1, 0.5), (2, 0.75)]);
        folder.ReadSummary().ShouldBeNull();
    }
}
