using Orchestrator.Coordinator.Results;
using Orchestrator.Distillation;
using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.Planning;

/// <summary>
/// <c>prior: [sweep, ...]</c>: the finished points of earlier sweeps, as observations a bayes sweep has before its own
/// (W&amp;B's prior runs, Ray Tune's points_to_evaluate with results). A point counts when it sets exactly this sweep's
/// parameters to values inside its search space (a listed value, or a number within the range); its objectives are the
/// means over its finished seeds, measured as this sweep measures them. Read once, when the sweep is submitted, and
/// kept with it: a restarted or resubmitted sweep proposes from the same observations.
/// </summary>
public static class PriorPoints
{
    public static List<PriorPoint> From(SweepDefinition sweep, SweepStatus prior)
    {
        if (prior.Metric != sweep.Metric.Name)
            throw new UserInputException($"{sweep.File}: prior: sweep '{prior.SweepId}' was ranked on {prior.Metric} and this one on {sweep.Metric.Name}; " +
                                         "its observations would not be comparable. List sweeps with the same first metric.");
        var objectives = sweep.OtherObjectives.Select(o => new Objective { Name = o.Name, Maximize = o.Maximize }).ToList();
        var scores = new Scoreboard(sweep.Metric.Name, sweep.Metric.Maximize, Scoreboard.MeasuredBy(sweep.Metric.Name, objectives, []));
        var students = prior.Jobs.Where(j => j is { Kind: JobKind.Student, State: JobState.Done, Summary: not null }).ToList();
        foreach (var student in students) scores.Score(SweepResults.PointKey(student.Parameters), student.PlanIndex, student.Summary);
        var parameters = students.GroupBy(j => SweepResults.PointKey(j.Parameters)).ToDictionary(g => g.Key, g => (IReadOnlyDictionary<string, string>)g.First().Parameters);
        var points = new List<PriorPoint>();
        foreach (var (key, recipe) in scores.Ranked((key, _) => parameters[key]))
        {
            if (recipe.Parameters.Count != sweep.Parameters.Count) continue; // another search space
            var values = sweep.Parameters.Select(p => recipe.Parameters.TryGetValue(p.Name, out var shown) ? p.ValueOf(shown) : null).ToList();
            if (values.Any(v => v is null)) continue;
            var means = objectives.Select(o => recipe.Measures.TryGetValue(o.Name, out double mean) ? mean : double.NaN).Prepend(recipe.MetricMean).ToList();
            if (means.Any(double.IsNaN)) continue; // not measured (a latency its trials did not record)
            points.Add(new PriorPoint { SweepId = prior.SweepId, Point = key, Values = { values.Select(v => v!.Value) }, Objectives = { means } });
        }
        return points;
    }
}
