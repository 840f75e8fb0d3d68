using System.Diagnostics;
using Orchestrator.Distillation;
using Orchestrator.Distillation.Data;
using Orchestrator.Distillation.SoftTargets;
using Orchestrator.Distillation.Trials;
using Orchestrator.Protocol.V1;
using Devices = Orchestrator.Distillation.Training.Devices;

namespace Orchestrator.GpuNode;

/// <summary>
/// Runs a soft-target job of a sweep: one teacher's shard, or the aggregation of an ensemble into the store.
/// Its summary.json (in the job's folder) says which key it produced or found, whether it was already cached,
/// and, for an aggregation, every teacher's and the ensemble's validation and test accuracy.
/// </summary>
public static class SoftTargetExecution
{
    public static TrialSummary Run(JobSpec job, string device, Action<string>? log = null)
    {
        var work = SoftTargetJob.FromJson(job.WorkJson);
        var clock = Stopwatch.StartNew();
        var resolved = Devices.Resolve(device);
        using var data = DistillationData.Load(work.Data, resolved);
        var builder = new SoftTargetBuilder(new SoftTargetStore(job.SoftTargetStore), data, resolved, log);
        var outcome = work.Member is { } member
            ? builder.BuildShard(work.Teachers.Members[member], work.Embeddings, work.Teachers.Views, work.Shard!.Value, work.Shards)
            : builder.Aggregate(work.Teachers, work.Embeddings, work.Shards);

        var summary = new TrialSummary
        {
            Name = job.JobId,
            Status = TrialStatus.Completed,
            Device = resolved.ToString(),
            DatasetFingerprint = data.Fingerprint,
            Seconds = clock.Elapsed.TotalSeconds,
            FinishedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(DateTime.UtcNow),
            SoftTargets = outcome.Key,
            SoftTargetsCached = outcome.Cached,
            Notes = { outcome.Notes },
        };
        if (outcome.Manifest.Ensemble is { } ensemble)
        {
            summary.Model = ensemble.Checkpoint;
            summary.Parameters = ensemble.Parameters;
            summary.BestValidationAccuracy = ensemble.Validation;
            summary.TestAccuracy = ensemble.Test;
            summary.Teachers.AddRange(outcome.Manifest.Teachers!.Select(t => new TeacherAccuracy
            {
                Checkpoint = t.Checkpoint, Sha256 = t.Sha256, Parameters = t.Parameters, ValidationAccuracy = t.Validation, TestAccuracy = t.Test,
            }));
        }
        new TrialFolder(job.OutputDirectory).WriteSummary(summary);
        return summary;
    }
}
