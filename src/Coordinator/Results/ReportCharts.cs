using System.Text;
using System.Text.Json;
using Orchestrator.Protocol.V1;

namespace Orchestrator.Coordinator.Results;

/// <summary>
/// The report's interactive charts, drawn by Apache ECharts inlined into the page (it opens offline; nothing comes
/// from a CDN): accuracy against cost (latency, parameters or MACs, chosen on the page) with the Pareto front drawn
/// and the teacher and the student alone marked; a parallel-coordinates plot of every point, coloured by the metric,
/// whose axes can be brushed; and the parameters' importance (<see cref="ParameterImportance"/>). Hovering a point
/// shows its settings. ECharts over growing the hand-made SVG: brushing, tooltips and axis switching are what
/// researchers use in W&amp;B's and optuna-dashboard's pages, and ECharts has them built in at 1.1 MB (plotly.js: 4.6 MB).
/// </summary>
static class ReportCharts
{
    /// <summary>The cost axes the scatter offers, by results.csv column.</summary>
    static readonly string[] Costs = ["latency_ms", "params", "macs", "bytes_f32"];

    static readonly Lazy<string> ECharts = new(() =>
    {
        using var stream = typeof(ReportCharts).Assembly.GetManifestResourceStream("echarts.min.js")
            ?? throw new InvalidOperationException("echarts.min.js is not embedded in the build");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    /// <summary>The charts of a sweep with finished points, and the script that draws them.</summary>
    /// <param name="library">Inline the ECharts library before the charts (a page that has not loaded it already).</param>
    public static void Append(StringBuilder html, SweepStatus status, IReadOnlyList<SweepResults.Recipe> recipes, bool library)
    {
        var students = status.Jobs.Where(j => j.Kind == JobKind.Student && j.Summary is { BestEpoch: > 0 }).GroupBy(j => SweepResults.PointKey(j.Parameters))
            .ToDictionary(g => g.Key, g => g.ToList());
        var parameters = recipes.SelectMany(r => r.Parameters.Keys).Distinct().Order(StringComparer.Ordinal).ToList();
        var importance = ParameterImportance.Of(recipes, status.Maximize);
        var data = new
        {
            metric = status.Metric,
            maximize = status.Maximize,
            costs = Costs,
            parameters,
            points = recipes.Select(r => new
            {
                settings = string.Join(", ", r.Parameters.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}")),
                values = parameters.Select(p => r.Parameters.GetValueOrDefault(p, "")).ToList(),
                metric = r.MetricMean,
                test = r.TestMean,
                cost = Costs.ToDictionary(c => c, c => Mean(students.GetValueOrDefault(SweepResults.PointKey(r.Parameters)) ?? [], c)),
            }).ToList(),
            references = status.Jobs.Where(j => j.Kind is JobKind.Teacher or JobKind.Baseline && j.Summary is { BestEpoch: > 0, Cost: not null })
                .GroupBy(j => j.Kind == JobKind.Teacher ? $"teacher {j.JobId}" : $"student alone ({Model(j)})")
                .Select(g => new
                {
                    name = g.Key,
                    teacher = g.First().Kind == JobKind.Teacher,
                    metric = g.Average(j => Measures.Of(j.Summary, status.Metric)),
                    cost = Costs.ToDictionary(c => c, c => Mean(g.ToList(), c)),
                }).ToList(),
            importance = importance.Select(i => new { parameter = i.Parameter, share = i.Importance }).ToList(),
        };
        html.Append("<h2>Accuracy against cost</h2><p class=\"note\">Each point's mean over its seeds; the line joins the Pareto front " +
                    "(no other point is both better and cheaper). Hover a point for its settings. Cost: <select id=\"cost\">")
            .AppendJoin("", Costs.Select(c => $"<option value=\"{c}\">{c}</option>")).Append("</select></p>")
            .Append("<div id=\"tradeoff\" style=\"height:440px\"></div>")
            .Append("<h2>Every point</h2><p class=\"note\">One line per point, coloured by its mean ").Append(SvgPlot.Escape(status.Metric))
            .Append("; drag along an axis to keep the lines within a range.</p><div id=\"parallel\" style=\"height:420px\"></div>");
        if (importance.Count > 0)
            html.Append("<h2>Which parameters mattered</h2><p class=\"note\">PED-ANOVA: how differently each parameter is distributed among the best 10 % of the points than among all (shares of 1).</p>")
                .Append("<div id=\"importance\" style=\"height:").Append(80 + 32 * importance.Count).Append("px\"></div>");
        if (library) html.Append(LibraryScript);
        html.Append("<script id=\"chart-data\" type=\"application/json\">").Append(JsonSerializer.Serialize(data).Replace("</", "<\\/")).Append("</script>")
            .Append("<script>").Append(Script).Append("</script>");
    }

    /// <summary>The ECharts library as an inline script element.</summary>
    public static string LibraryScript => $"<script>{ECharts.Value}</script>";

    static string Model(JobStatus job) => job.Parameters.GetValueOrDefault("model") ?? job.Summary.Model;

    /// <summary>The mean of a cost over jobs that measured it; null when none did.</summary>
    static double? Mean(IReadOnlyList<JobStatus> jobs, string cost)
    {
        var values = jobs.Select(j => Measures.Of(j.Summary, cost)).Where(v => !double.IsNaN(v)).ToList();
        return values.Count == 0 ? null : values.Average();
    }

    const string Script = """
        (function () {
          const data = JSON.parse(document.getElementById('chart-data').textContent);
          const better = (a, b) => data.maximize ? a > b : a < b;
          const tradeoff = echarts.init(document.getElementById('tradeoff'), null, { renderer: 'svg' });
          function drawTradeoff(cost) {
            const points = data.points.filter(p => p.cost[cost] != null);
            const sorted = points.slice().sort((a, b) => a.cost[cost] - b.cost[cost] || (better(a.metric, b.metric) ? -1 : 1));
            const front = [];
            for (const p of sorted) if (front.length === 0 || better(p.metric, front[front.length - 1].metric)) front.push(p);
            const dot = p => ({ value: [p.cost[cost], p.metric], name: p.settings, test: p.test });
            tradeoff.setOption({
              animation: false,
              tooltip: { trigger: 'item', formatter: q => `${q.seriesName}<br/>${q.data.name || ''}<br/>${data.metric} ${q.data.value[1].toFixed(4)}<br/>${cost} ${q.data.value[0].toPrecision(4)}` },
              legend: { top: 0 },
              xAxis: { type: 'log', name: cost, nameLocation: 'middle', nameGap: 28, scale: true },
              yAxis: { type: 'value', name: data.metric, scale: true },
              series: [
                { name: 'points', type: 'scatter', symbolSize: 8, data: points.map(dot) },
                { name: 'Pareto front', type: 'line', step: false, symbolSize: 11, data: front.map(dot), lineStyle: { width: 2 } },
                { name: 'teacher', type: 'scatter', symbol: 'diamond', symbolSize: 14,
                  data: data.references.filter(r => r.teacher && r.cost[cost] != null).map(r => ({ value: [r.cost[cost], r.metric], name: r.name })) },
                { name: 'student alone', type: 'scatter', symbol: 'triangle', symbolSize: 12,
                  data: data.references.filter(r => !r.teacher && r.cost[cost] != null).map(r => ({ value: [r.cost[cost], r.metric], name: r.name })) },
              ],
            }, true);
          }
          const select = document.getElementById('cost');
          select.addEventListener('change', () => drawTradeoff(select.value));
          drawTradeoff(select.value);

          const parallel = echarts.init(document.getElementById('parallel'), null, { renderer: 'svg' });
          const axes = data.parameters.map((name, i) => {
            const values = data.points.map(p => p.values[i]);
            const numeric = values.every(v => v !== '' && !isNaN(Number(v)));
            return numeric ? { dim: i, name, type: 'value', scale: true }
                           : { dim: i, name, type: 'category', data: [...new Set(values)] };
          });
          axes.push({ dim: data.parameters.length, name: data.metric, type: 'value', scale: true });
          const metrics = data.points.map(p => p.metric);
          parallel.setOption({
            animation: false,
            parallelAxis: axes,
            parallel: { left: 60, right: 90, top: 40 },
            visualMap: { type: 'continuous', precision: 4, dimension: data.parameters.length, min: Math.min(...metrics), max: Math.max(...metrics),
                         inRange: { color: data.maximize ? ['#d94e5d', '#eac736', '#50a3ba'] : ['#50a3ba', '#eac736', '#d94e5d'] }, right: 0, top: 'middle', calculable: true },
            tooltip: { trigger: 'item', formatter: q => data.points[q.dataIndex].settings },
            series: [{ type: 'parallel', lineStyle: { width: 2, opacity: 0.6 },
                       data: data.points.map(p => p.values.map((v, i) => axes[i].type === 'value' ? Number(v) : v).concat([p.metric])) }],
          });

          const box = document.getElementById('importance');
          if (box) {
            const chart = echarts.init(box, null, { renderer: 'svg' });
            const rows = data.importance.slice().reverse();
            chart.setOption({
              animation: false,
              grid: { left: 160, right: 40, top: 10, bottom: 30 },
              xAxis: { type: 'value', max: 1 },
              yAxis: { type: 'category', data: rows.map(r => r.parameter) },
              tooltip: { trigger: 'item' },
              series: [{ type: 'bar', data: rows.map(r => r.share), label: { show: true, position: 'right', formatter: q => (100 * q.value).toFixed(1) + ' %' } }],
            });
          }
          document.body.dataset.chartsDrawn = 'yes';
        })();
        """;
}
