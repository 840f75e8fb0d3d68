using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Akka.Actor;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Orchestrator.Coordinator.Cluster;
using Orchestrator.Coordinator.Results;
using Orchestrator.Protocol.V1;
using HttpResults = Microsoft.AspNetCore.Http.Results;

namespace Orchestrator.Coordinator.Api;

/// <summary>
/// The live sweep pages (<c>serve --http-port</c>, <c>local --http-port</c>): an index of the sweeps, and a page per
/// sweep with its report (<see cref="SweepReport"/>: progress, best point, front, charts, learning curves) that keeps
/// itself current while the sweep runs: it fetches the report's content every few seconds and swaps it in, no reload.
/// Everything comes from the coordinator (ECharts inlined): a CDN is unreachable from many clusters. With an API
/// token the pages need it too, as a bearer header, or once as <c>?token=</c>, which a cookie then keeps.
/// </summary>
public static class SweepPages
{
    const string TokenCookie = "orchestrator_token";
    /// <summary>How often a page fetches its content again, in milliseconds.</summary>
    const int RefreshMs = 2000;

    /// <summary>Maps the pages on <paramref name="port"/> only (the gRPC and metrics ports serve none of them).</summary>
    public static void Map(WebApplication app, int port, Func<IActorRef> sweeps, string? token)
    {
        var pages = app.MapGroup("").RequireHost($"*:{port}");
        if (token is not null) pages.AddEndpointFilter(async (context, next) => Authorized(context.HttpContext, token) ?? await next(context));
        pages.MapGet("/", async (CancellationToken cancellation) => Html(SweepReport.Page("sweeps", Live("/index", await Index(sweeps(), cancellation)))));
        pages.MapGet("/index", async (CancellationToken cancellation) => Html(await Index(sweeps(), cancellation)));
        pages.MapGet("/sweeps/{id}", async (string id, CancellationToken cancellation) => await Known(sweeps(), id, cancellation) is { } status
            ? Html(SweepReport.Page($"{status.Name}: live", Live($"/sweeps/{Uri.EscapeDataString(id)}/content", SweepReport.Body(status, DateTime.UtcNow, chartLibrary: false)),
                head: ReportCharts.LibraryScript))
            : NotFound(id));
        pages.MapGet("/sweeps/{id}/content", async (string id, CancellationToken cancellation) => await Known(sweeps(), id, cancellation) is { } status
            ? Html(SweepReport.Body(status, DateTime.UtcNow, chartLibrary: false))
            : NotFound(id));
        pages.MapGet("/sweeps/{id}/report.html", async (string id, CancellationToken cancellation) => await Known(sweeps(), id, cancellation) is { } status
            ? Html(SweepReport.Render(status, DateTime.UtcNow))
            : NotFound(id));
    }

    /// <summary>
    /// The pages alone, on 127.0.0.1:<paramref name="port"/> (<c>local --http-port</c>: this machine's sweeps, no
    /// token); the server logs nothing, so the sweep's console output stays as it is.
    /// </summary>
    public static async Task<WebApplication> ServeAsync(int port, IActorRef sweeps, CancellationToken cancellation)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(System.Net.IPAddress.Loopback, port));
        var app = builder.Build();
        Map(app, port, () => sweeps, token: null);
        await app.StartAsync(cancellation);
        return app;
    }

    /// <summary>The sweep with every job, or null when the coordinator holds no sweep of that id.</summary>
    static async Task<SweepStatus?> Known(IActorRef sweeps, string id, CancellationToken cancellation) =>
        (await SweepRegion.Ids(sweeps, cancellation)).Contains(id) ? await SweepRegion.Status(sweeps, id, cancellation) : null;

    static async Task<string> Index(IActorRef sweeps, CancellationToken cancellation)
    {
        var html = new StringBuilder("<h1>Sweeps</h1>");
        var ids = await SweepRegion.Ids(sweeps, cancellation);
        if (ids.Count == 0) return html.Append("<p class=\"note\" id=\"progress\" data-done=\"0\">No sweep yet: submit one (orchestrator submit sweep.yaml).</p>").ToString();
        html.Append("<table><tr><th class=\"p\">sweep</th><th>done</th><th>running</th><th>queued</th><th>failed</th><th>jobs</th><th>best (validation)</th><th class=\"p\">state</th></tr>");
        int allDone = 0;
        foreach (string id in ids)
        {
            var s = await SweepRegion.Summary(sweeps, id, cancellation);
            var counts = s.Counts ?? new JobCounts();
            allDone += counts.Done;
            string best = s.Best is { } b ? b.MetricMean.ToString("0.####", CultureInfo.InvariantCulture) + " " + SvgPlot.Escape(s.Metric) : "";
            string state = s.Cancelled ? "cancelled" : s.Complete ? "complete" : "running";
            html.Append($"<tr><td class=\"p\"><a href=\"/sweeps/{Uri.EscapeDataString(id)}\">{SvgPlot.Escape(id)}</a></td><td>{counts.Done}</td><td>{counts.Running}</td>" +
                        $"<td>{counts.Queued}</td><td>{counts.Failed}</td><td>{s.TotalJobs}</td><td>{best}</td><td class=\"p\">{state}</td></tr>");
        }
        return html.Append($"</table><p class=\"note\" id=\"progress\" data-done=\"{allDone}\">Updated {DateTime.UtcNow:HH:mm:ss} UTC.</p>").ToString();
    }

    /// <summary>The content in a box that refreshes itself from <paramref name="source"/>, keeping the chart the user picked.</summary>
    static string Live(string source, string content) =>
        $"<div id=\"live\" data-source=\"{source}\">{content}</div>" +
        "<p class=\"note\" id=\"live-state\">live: refreshed every " + (RefreshMs / 1000) + " s</p>" +
        "<script>" + LiveScript.Replace("REFRESH_MS", RefreshMs.ToString(CultureInfo.InvariantCulture)) + "</script>";

    const string LiveScript = """
        (function () {
          const box = document.getElementById('live'), state = document.getElementById('live-state');
          let busy = false, timer = null;
          async function refresh() {
            if (busy) return;
            busy = true;
            try {
              const response = await fetch(box.dataset.source, { credentials: 'same-origin', cache: 'no-store' });
              if (!response.ok) { state.textContent = 'the coordinator answered ' + response.status + '; retrying'; return; }
              const html = await response.text();
              const cost = document.getElementById('cost')?.value;
              if (window.echarts) box.querySelectorAll('[_echarts_instance_]').forEach(e => echarts.getInstanceByDom(e)?.dispose());
              box.innerHTML = html;
              const select = document.getElementById('cost');
              if (select && cost) select.value = cost;
              // Scripts set by innerHTML do not run: the charts' are put in again, which runs them.
              box.querySelectorAll('script:not([type])').forEach(old => {
                const script = document.createElement('script');
                script.textContent = old.textContent;
                old.replaceWith(script);
              });
              box.dataset.refreshes = String(Number(box.dataset.refreshes || 0) + 1);
              const progress = document.getElementById('progress');
              if (progress && progress.dataset.complete === 'yes') { clearInterval(timer); state.textContent = 'complete'; }
              else state.textContent = 'live: updated ' + new Date().toLocaleTimeString();
            } catch (e) {
              state.textContent = 'the coordinator is unreachable; retrying';
            } finally {
              busy = false;
            }
          }
          timer = setInterval(refresh, REFRESH_MS);
        })();
        """;

    static IResult Html(string html) => HttpResults.Content(html, "text/html; charset=utf-8");

    static IResult NotFound(string id) =>
        HttpResults.Content(SweepReport.Page("no such sweep", $"<h1>No sweep '{SvgPlot.Escape(id)}'</h1><p><a href=\"/\">every sweep</a></p>"),
            "text/html; charset=utf-8", statusCode: StatusCodes.Status404NotFound);

    /// <summary>Null when the request carries the token; a refusal otherwise. <c>?token=</c> sets the cookie and comes back without it.</summary>
    static IResult? Authorized(HttpContext context, string token)
    {
        var request = context.Request;
        if (request.Query.TryGetValue("token", out var given) && Matches(given.ToString(), token))
        {
            context.Response.Cookies.Append(TokenCookie, token, new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Strict, Secure = request.IsHttps, Path = "/" });
            return HttpResults.Redirect(request.Path.HasValue ? request.Path.Value! : "/");
        }
        string header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.Ordinal) && Matches(header["Bearer ".Length..].Trim(), token)) return null;
        if (request.Cookies.TryGetValue(TokenCookie, out var cookie) && Matches(cookie, token)) return null;
        return HttpResults.Content(SweepReport.Page("token needed",
                "<h1>This coordinator needs its API token</h1><p>Open this page once with <code>?token=&lt;the token&gt;</code> added to its address " +
                "(the token file's first line; a cookie keeps it), or send it as <code>Authorization: Bearer &lt;token&gt;</code>.</p>"),
            "text/html; charset=utf-8", statusCode: StatusCodes.Status401Unauthorized);
    }

    static bool Matches(string given, string token) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(token));
}
