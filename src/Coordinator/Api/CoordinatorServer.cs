using System.Security.Cryptography.X509Certificates;
using MemberStatus = Akka.Cluster.MemberStatus;
using Akka.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using Orchestrator.Coordinator.Cluster;
using Orchestrator.Hosting;

namespace Orchestrator.Coordinator.Api;

/// <summary>
/// The coordinator process as one host: its cluster member (sweep entities, scheduler), the watch feed that records
/// their events for Watch streams, and, on Kestrel (HTTP/2, TLS when a certificate is given), the Sweeps service,
/// the Metrics ingest service, the standard gRPC health service (SERVING while this member is Up in the cluster) and server reflection. Health and reflection need no token; the Sweeps service does when one is set.
/// </summary>
public static class CoordinatorServer
{
    public static WebApplication Build(ClusterSettings journal, ApiOptions api, string outputDirectory, string softTargetStore)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.AddOrchestratorConsole();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // A dashboard or notebook follows many sweeps over one connection: Kestrel's default of 100 concurrent
            // streams a connection would leave the 101st Watch waiting for one of them to end.
            kestrel.Limits.Http2.MaxStreamsPerConnection = ApiOptions.MaxStreamsPerConnection;
            kestrel.Listen(api.Bind, api.Port, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                if (api.CertificateFile is { } certificate) listen.UseHttps(X509Certificate2.CreateFromPemFile(certificate, api.KeyFile));
            });
            if (api.MetricsPort > 0) kestrel.Listen(api.Bind, api.MetricsPort, listen => listen.Protocols = HttpProtocols.Http1);
            if (api.HttpPort > 0)
                kestrel.Listen(api.Bind, api.HttpPort, listen =>
                {
                    listen.Protocols = HttpProtocols.Http1AndHttp2;
                    if (api.CertificateFile is { } certificate) listen.UseHttps(X509Certificate2.CreateFromPemFile(certificate, api.KeyFile));
                });
        });
        builder.Services.AddSingleton<CoordinatorMetrics>();
        builder.Services.AddHostedService<SweepGauges>();
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(CoordinatorMetrics.MeterName)
            .AddRuntimeInstrumentation()
            .AddPrometheusExporter());
        builder.Services.AddAkka(NodeSettings.SystemName, akka => akka.AddCoordinator(journal));
        builder.Services.AddSingleton(api);
        builder.Services.AddSingleton(new WatchHub(api.WatchHistory));
        builder.Services.AddSingleton<MetricsSink>();
        builder.Services.AddSingleton(services => new CoordinatorContext(services.GetRequiredService<Akka.Actor.ActorSystem>, outputDirectory, softTargetStore, api.AllowedPaths));
        builder.Services.AddSingleton(services => new SweepFollowers(services.GetRequiredService<CoordinatorContext>(), services.GetRequiredService<ILogger<SweepFollowers>>()));
        builder.Services.AddHostedService(services => services.GetRequiredService<SweepFollowers>());
        builder.Services.AddGrpc(grpc =>
            {
                grpc.MaxReceiveMessageSize = ApiOptions.MaxRequestBytes;
                grpc.Interceptors.Add<GrpcMetricsInterceptor>();
                grpc.Interceptors.Add<UnexpectedErrorInterceptor>();
            })
            .AddServiceOptions<SweepService>(service => service.Interceptors.Add<BearerTokenInterceptor>())
            .AddServiceOptions<MetricsService>(service => service.Interceptors.Add<BearerTokenInterceptor>());
        builder.Services.AddGrpcReflection();
        builder.Services.AddGrpcHealthChecks().AddCheck<ClusterMemberCheck>("cluster");

        var app = builder.Build();
        app.Lifetime.ApplicationStarted.Register(() =>
            app.Services.GetRequiredService<Akka.Actor.ActorSystem>().ActorOf(
                WatchFeed.Props(app.Services.GetRequiredService<WatchHub>(), app.Services.GetRequiredService<MetricsSink>(),
                    app.Services.GetRequiredService<CoordinatorMetrics>()), "watch-feed"));
        app.MapGrpcService<SweepService>();
        app.MapGrpcService<MetricsService>();
        app.MapGrpcHealthChecksService();
        app.MapGrpcReflectionService();
        if (api.MetricsPort > 0) app.MapPrometheusScrapingEndpoint().RequireHost($"*:{api.MetricsPort}");
        if (api.HttpPort > 0) SweepPages.Map(app, api.HttpPort, () => app.Services.GetRequiredService<CoordinatorContext>().Sweeps, api.Token);
        return app;
    }

    /// <summary>Healthy while this process is an Up member of the cluster.</summary>
    sealed class ClusterMemberCheck(Akka.Actor.ActorSystem system) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(Akka.Cluster.Cluster.Get(system).SelfMember.Status == MemberStatus.Up
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy("not an Up member of the cluster yet"));
    }
}
