using System.Globalization;
using System.Text.Json;
using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.Results;

/// <summary>
/// The rows of a sweep's results (results.csv, results.json, <c>orchestrator results</c>): one per job, with the
/// same columns for every row (a parameter a job lacks is empty), written as the jobs come so that a table of a
/// million jobs is never held whole. <c>pack</c> names the pack a trial trained in (<see cref="TrialSummary.Pack"/>;
/// empty: alone); its trials share the pack's wall time equally in "seconds". A distilled student names its
/// <c>baseline</c> (the student alone on labels, same seed) and its <c>gain</c>: its test accuracy minus the baseline's.
/// Rows come in table order (<see cref="SweepResults.InTableOrder"/>), where baselines come before students, so a
/// student's baseline accuracy is known when its row is written.
/// </summary>
/// <param name="parameterNames">Every parameter of the sweep's jobs, in column order (<see cref="SweepStatus.ParameterNames"/>).</param>
/// <param name="front">With several objectives, the points on the Pareto front (<see cref="SweepResults.FrontKeys"/>): a student's
/// <c>pareto_front</c> says whether its point is one of them; null leaves the column empty.</param>
public sealed class ResultsTable(IReadOnlyList<string> parameterNames, IReadOnlySet<string>? front = null)
{
    /// <summary>The test accuracy of each finished baseline met so far: a few per point, never a row per student.</summary>
    readonly Dictionary<string, double> baselines = [];

    /// <summary>The columns, in order.</summary>
    public IReadOnlyList<string> Columns { get; } =
    [
        "job", "kind", "state", .. parameterNames, "seed", "epochs_run", "best_epoch", "best_val_accuracy", "best_val_loss", "test_accuracy", "baseline", "gain", "pareto_front",
        .. CostColumns, "seconds",
        "pack", "soft_targets", "soft_targets_cached", "teachers", "depends_on", "notes", "failure_reason", "stop_reason",
    ];

    /// <summary>
    /// What each trained model costs (<see cref="ModelCost"/>): parameters, multiply-accumulates per sample, bytes in
    /// float32 and float16, latency at batch 1 and 256 (median ms and its run count) and where it was measured.
    /// </summary>
    public static IReadOnlyList<string> CostColumns { get; } =
        ["params", "macs", "bytes_f32", "bytes_f16", "latency_ms", "latency_runs", "latency_ms_b256", "latency_runs_b256", "latency_device"];

    /// <summary>The job's row, by column.</summary>
    public Dictionary<string, object?> Row(JobStatus job)
    {
        var s = job.Summary;
        var row = new Dictionary<string, object?>
        {
            ["job"] = job.JobId,
            ["kind"] = SweepResults.KindNames.GetValueOrDefault(job.Kind, "unknown"),
            ["state"] = JobStates.Name(job.State),
        };
        foreach (var name in parameterNames) row[name] = job.Parameters.TryGetValue(name, out var v) ? v : null;
        // What does not apply is blank, never 0: a soft-target job trains no epoch (its accuracies are its ensemble's), a shard measures nothing.
        bool trial = Protocol.JobKinds.TrainsTrial(job.Kind), measured = trial || job.Kind == JobKind.SoftTargets;
        row["seed"] = trial ? job.Seed : null;
        row["epochs_run"] = trial ? s?.EpochsRun : null;
        row["best_epoch"] = trial ? s?.BestEpoch : null;
        row["best_val_accuracy"] = measured ? s?.BestValidationAccuracy : null;
        row["best_val_loss"] = trial ? s?.BestValidationLoss : null;
        row["test_accuracy"] = measured && s is { HasTestAccuracy: true } ? s.TestAccuracy : null;
        if (job is { Kind: JobKind.Baseline, State: JobState.Done } && s is { HasTestAccuracy: true }) baselines[job.JobId] = s.TestAccuracy;
        row["baseline"] = job.Baseline.Length > 0 ? job.Baseline : null;
        row["gain"] = s is { HasTestAccuracy: true } && baselines.TryGetValue(job.Baseline, out double alone) ? s.TestAccuracy - alone : null;
        row["pareto_front"] = front is not null && job.Kind == JobKind.Student ? front.Contains(SweepResults.PointKey(job.Parameters)) : null;
        var cost = trial ? s?.Cost : null;
        row["params"] = trial && s is { Parameters: > 0 } ? s.Parameters : null;
        row["macs"] = cost is { HasMultiplyAccumulates: true } ? cost.MultiplyAccumulates : null;
        row["bytes_f32"] = cost?.BytesFloat32;
        row["bytes_f16"] = cost?.BytesFloat16;
        row["latency_ms"] = cost?.LatencyMsBatch1;
        row["latency_runs"] = cost?.LatencyRunsBatch1;
        row["latency_ms_b256"] = cost?.LatencyMsBatch256;
        row["latency_runs_b256"] = cost?.LatencyRunsBatch256;
        row["latency_device"] = cost?.Device;
        row["seconds"] = s?.Seconds;
        row["pack"] = s is { Pack.Length: > 0 } ? s.Pack : null;
        row["soft_targets"] = s?.SoftTargets;
        row["soft_targets_cached"] = job.Kind is JobKind.SoftTargets or JobKind.SoftTargetShard ? s?.SoftTargetsCached : null;
        row["teachers"] = s is { Teachers.Count: > 0 } ? string.Join("; ", s.Teachers.Select(SweepResults.Describe)) : null;
        row["depends_on"] = string.Join(" ", job.DependsOn);
        row["notes"] = s is { Notes.Count: > 0 } ? string.Join("; ", s.Notes) : null;
        row["failure_reason"] = s?.FailureReason;
        row["stop_reason"] = job.StopReason.Length > 0 ? job.StopReason : null;
        return row;
    }

    /// <summary>The header, then a line per job.</summary>
    public async Task WriteCsvAsync(IAsyncEnumerable<JobStatus> jobs, TextWriter writer)
    {
        await writer.WriteLineAsync(string.Join(",", Columns));
        await foreach (var job in jobs) await writer.WriteLineAsync(string.Join(",", Row(job).Values.Select(Csv)));
    }

    /// <summary>An indented JSON array of the rows, and a newline.</summary>
    public async Task WriteJsonAsync(IAsyncEnumerable<JobStatus> jobs, Stream stream)
    {
        await using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartArray();
            await foreach (var job in jobs)
            {
                JsonSerializer.Serialize(json, Row(job));
                if (json.BytesPending > 1 << 16) await json.FlushAsync();
            }
            json.WriteEndArray();
        }
        await stream.WriteAsync("\n"u8.ToArray());
    }

    static string Csv(object? value)
    {
        string text = value switch
        {
            null => "",
            double d => d.ToString("R", CultureInfo.InvariantCulture),
            _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
        };
        return text.IndexOfAny([',', '"', '\n']) >= 0 ? $"\"{text.Replace("\"", "\"\"")}\"" : text;
    }
}
