using Orchestrator.Coordinator.Results;
using Google.Protobuf;
using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.State;

/// <summary>
/// A sweep's whole state as one message and back: its settings, its plan's chunks (their bytes, shared), every job that
/// moved, every scored point, the target reached and the proposals.
/// </summary>
public static class SweepSnapshotCodec
{
    public static SweepSnapshot Write(SubmitSweep sweep, SweepCancelled? cancelled, JobGraph jobs, Scoreboard scores, EarlyStopping stopping, Proposals proposals)
    {
        var moved = new MemoryStream();
        var output = new CodedOutputStream(moved);
        foreach (var job in jobs.Jobs.Where(j => j.State != JobState.Queued || j.SummaryBytes is not null || j.Crashes > 0 || j.EnvironmentalRetries > 0 || j.Trace is { Measured: true }))
        {
            var saved = new JobSnapshot
            {
                Index = job.Index, State = job.State, Crashes = job.Crashes, EnvironmentalRetries = job.EnvironmentalRetries,
                Summary = job.SummaryBytes is { } summary ? UnsafeByteOperations.UnsafeWrap(summary) : ByteString.Empty,
            };
            EarlyStopping.Save(job, saved);
            output.WriteMessage(saved);
        }
        output.Flush();
        var snapshot = new SweepSnapshot
        {
            Sweep = sweep, Cancelled = cancelled, AttemptsReserved = jobs.AttemptsReserved, Plan = { jobs.Plan.Select(c => c.Bytes) },
            MovedJobs = UnsafeByteOperations.UnsafeWrap(moved.ToArray()), TargetReached = stopping.Reached,
        };
        snapshot.Points.Add(scores.Saved());
        proposals.Save(snapshot);
        return snapshot;
    }

    /// <summary>Whether the snapshot was written before the plan was kept as chunks: its jobs are in the sweep, and its points are counted again from them.</summary>
    public static bool BeforePlanChunks(SweepSnapshot snapshot) => snapshot.Plan.Count == 0;

    /// <summary>Restores the parts of a state whose sweep and plan are in place already (<see cref="SweepState.Restore"/> does those).</summary>
    public static void Read(SweepSnapshot snapshot, JobGraph jobs, Scoreboard scores, EarlyStopping stopping, Proposals proposals)
    {
        jobs.RestoreAttempts(snapshot.AttemptsReserved);
        stopping.RestoreTarget(snapshot.TargetReached);
        proposals.Restore(snapshot);
        bool before = BeforePlanChunks(snapshot);
        if (!before) scores.Restore(snapshot.Points);
        foreach (var saved in MovedJobs(snapshot))
        {
            var job = jobs[saved.Index];
            (job.SummaryBytes, job.Crashes, job.EnvironmentalRetries) = (saved.Summary.IsEmpty ? null : saved.Summary.ToByteArray(), saved.Crashes, saved.EnvironmentalRetries);
            job.Started = saved.State is not (JobState.Queued or JobState.Stopped) || saved.Crashes > 0 || saved.EnvironmentalRetries > 0 || saved.EpochsMeasured > 0;
            jobs.Move(job, saved.State);
            EarlyStopping.Restore(job, saved);
            if (before && job is { State: JobState.Done, Kind: JobKind.Student, Summary: { } summary }) scores.Score(SweepResults.PointKey(job.Plan.Parameters), job.Index, summary);
        }
    }

    /// <summary>The jobs a snapshot holds as moved, whichever way it was written.</summary>
    public static IEnumerable<JobSnapshot> MovedJobs(SweepSnapshot snapshot)
    {
        foreach (var saved in snapshot.Jobs) yield return saved;
        var input = snapshot.MovedJobs.CreateCodedInput();
        while (!input.IsAtEnd)
        {
            var saved = new JobSnapshot();
            input.ReadMessage(saved);
            yield return saved;
        }
    }
}
