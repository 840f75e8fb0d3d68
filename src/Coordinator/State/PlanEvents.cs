using System.Text.Json.Nodes;
using Google.Protobuf;
using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.State;

/// <summary>How a new sweep's plan is persisted: as events no larger than <see cref="MaxPlanEventBytes"/>.</summary>
public static class PlanEvents
{
    /// <summary>The most a plan event carries (SweepSubmitted, then SweepJobsPlanned), in serialized bytes.</summary>
    public const int MaxPlanEventBytes = 1 << 20;

    /// <summary>
    /// The events a new sweep is persisted as: its settings, one template per job kind and the first jobs, then the
    /// other jobs in chunks (serialized as they are planned); each job as its template's overrides.
    /// </summary>
    public static List<IMessage> Of(SubmitSweep submit)
    {
        var header = new SubmitSweep
        {
            SweepId = submit.SweepId, Name = submit.Name, Metric = submit.Metric, Maximize = submit.Maximize, OutputRoot = submit.OutputRoot,
            SoftTargetStore = submit.SoftTargetStore, Templates = { submit.Templates }, EarlyTermination = submit.EarlyTermination, Bayes = submit.Bayes,
            Objectives = { submit.Objectives }, Constraints = { submit.Constraints },
        };
        if (submit.HasTarget) header.Target = submit.Target;
        var templateOf = new Dictionary<JobKind, int>();
        var parsed = new List<JsonNode?>();
        var events = new List<IMessage> { new SweepSubmitted { Sweep = header } };
        SweepJobsPlanned? chunk = null; // after the first chunk, in the header
        long size = header.CalculateSize();
        foreach (var job in submit.Jobs)
        {
            var planned = job;
            if (job.Template == 0 && job.WorkJson.Length > 0)
            {
                if (!templateOf.TryGetValue(job.Kind, out int template))
                {
                    header.Templates.Add(job.WorkJson);
                    parsed.Add(JsonNode.Parse(job.WorkJson));
                    templateOf[job.Kind] = template = header.Templates.Count;
                    size += job.WorkJson.Length + 8;
                }
                planned = job.Clone();
                planned.WorkJson = "";
                planned.Template = template;
                planned.OverridesJson = job.WorkJson == header.Templates[template - 1] ? "{}" : JsonMergePatch.Diff(parsed[template - 1], job.WorkJson);
            }
            int bytes = planned.CalculateSize() + 8;
            if (size + bytes > MaxPlanEventBytes && (chunk?.Jobs.Count ?? header.Jobs.Count) > 0)
            {
                events.Add(chunk = new SweepJobsPlanned());
                size = 0;
            }
            if (chunk is null) header.Jobs.Add(planned);
            else chunk.Jobs.Add(planned.ToByteString());
            size += bytes;
        }
        return events;
    }
}
