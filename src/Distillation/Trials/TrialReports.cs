using Orchestrator.Distillation;
using Orchestrator.Distillation.Training;
using Proto = Orchestrator.Protocol.V1;

namespace Orchestrator.Distillation.Trials;

/// <summary>Maps training results to the wire and file messages of src/Protocol (<see cref="TrialFolder"/> writes them).</summary>
public static class TrialReports
{
    public static Proto.EpochMetrics ToProto(this EpochMetrics m) => new()
    {
        Epoch = m.Epoch,
        LearningRate = m.LearningRate,
        TrainLoss = m.TrainLoss,
        LossTerms = { m.LossTerms.ToDictionary() },
        TrainAccuracy = m.TrainAccuracy,
        ValidationLoss = m.ValidationLoss,
        ValidationAccuracy = m.ValidationAccuracy,
        SamplesPerSecond = m.SamplesPerSecond,
        Seconds = m.Seconds,
        StepSeconds = m.StepSeconds,
    };

    public static Proto.TrialSummary ToSummary(this TrainingResult result, string name, string model, double seconds, string bestCheckpoint)
    {
        var summary = new Proto.TrialSummary
        {
            Name = name,
            Status = result.Status switch
            {
                TrialStatus.Completed => Proto.TrialStatus.Completed,
                TrialStatus.EarlyStopped => Proto.TrialStatus.EarlyStopped,
                TrialStatus.Failed => Proto.TrialStatus.Failed,
                TrialStatus.Cancelled => Proto.TrialStatus.Cancelled,
                TrialStatus.Stopped => Proto.TrialStatus.Stopped,
                _ => Proto.TrialStatus.Unspecified,
            },
            FailureReason = result.FailureReason ?? "",
            EpochsRun = result.Epochs.Count,
            BestEpoch = result.BestEpoch,
            BestValidationAccuracy = result.BestEpoch > 0 ? result.BestValidationAccuracy : 0,
            BestValidationLoss = result.BestEpoch > 0 ? result.Epochs[result.BestEpoch - 1].ValidationLoss : 0,
            Model = model,
            Parameters = result.Parameters,
            Device = result.Device,
            ConfigurationHash = result.ConfigurationHash,
            DatasetFingerprint = result.DatasetFingerprint,
            Seconds = seconds,
            BestCheckpoint = result.BestEpoch > 0 ? bestCheckpoint : "",
            SoftTargets = result.SoftTargets,
            Notes = { result.Notes },
        };
        if (result.TestAccuracy is { } test) summary.TestAccuracy = test;
        if (result.TeacherTestAccuracy is { } teacherAccuracy) summary.TeacherTestAccuracy = teacherAccuracy;
        if (result.TeacherParameters is { } teacherParameters) summary.TeacherParameters = teacherParameters;
        if (result.Cost is { } cost) summary.Cost = cost.ToProto();
        return summary;
    }

    public static Proto.ModelCost ToProto(this Models.ModelCost cost)
    {
        var proto = new Proto.ModelCost
        {
            BytesFloat32 = cost.Float32Bytes,
            BytesFloat16 = cost.Float16Bytes,
            LatencyMsBatch1 = cost.Batch1.MedianMilliseconds,
            LatencyRunsBatch1 = cost.Batch1.Runs,
            LatencyMsBatch256 = cost.Batch256.MedianMilliseconds,
            LatencyRunsBatch256 = cost.Batch256.Runs,
            Device = cost.Device,
        };
        if (cost.MultiplyAccumulates is { } macs) proto.MultiplyAccumulates = macs;
        return proto;
    }
}
