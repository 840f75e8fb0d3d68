using Google.Protobuf;
using Orchestrator.Protocol.V1;
using Shouldly;

namespace Orchestrator.Protocol.Tests;

/// <summary>metrics.jsonl and summary.json are the proto3 JSON mapping of these messages, readable from any language.</summary>
public class TrialMessageTests
{
    static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true).WithPreserveProtoFieldNames(true));

    [Fact]
    public void Epoch_metrics_round_trip_through_json_with_proto_field_names()
    {
        var metrics = new EpochMetrics { Epoch = 3, LearningRate = 5e-4, TrainLoss = 0.25, LossTerms = { ["ce"] = 0.3, ["hinton"] = 0.2 }, ValidationAccuracy = 0.875 };
        string json = Formatter.Format(metrics);
        json.ShouldContain("\"validation_accuracy\": 0.875");
        json.ShouldContain("\"loss_terms\": { \"ce\": 0.3, \"hinton\": 0.2 }");
        JsonParser.Default.Parse<EpochMetrics>(json).ShouldBe(metrics);
    }

    [Fact]
    public void Optional_test_accuracy_is_absent_for_a_failed_trial_and_present_otherwise()
    {
        var failed = new TrialSummary { Name = "t", Status = TrialStatus.Failed, FailureReason = "loss became NaN" };
        Formatter.Format(failed).ShouldNotContain("test_accuracy");
        var done = new TrialSummary { Name = "t", Status = TrialStatus.Completed, TestAccuracy = 0.9 };
        var parsed = JsonParser.Default.Parse<TrialSummary>(Formatter.Format(done));
        parsed.HasTestAccuracy.ShouldBeTrue();
        parsed.TestAccuracy.ShouldBe(0.9);
        parsed.Status.ShouldBe(TrialStatus.Completed);
    }
}
