using System.Net;
using Azure.Data.Tables;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using Orleans.Configuration;
using OrleansVectors.Client.Hosting;
using OrleansVectors.Grains.Diagnostics;
using OrleansVectors.Grains.Hosting;
using OrleansVectors.Silo;

// Configuration: appsettings.json, then environment variables (Silo__GatewayPort=30001), then the command
// line (--Silo:GatewayPort 30001). SIGTERM or Ctrl+C stops the silo gracefully: it leaves the cluster and its
// grains deactivate. README, "Deployment", lists every setting.
// appsettings.json is read from beside the program, wherever it is started from
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
var settings = builder.Configuration.GetSection("Silo").Get<SiloSettings>() ?? new SiloSettings();
var validation = new SiloSettingsValidator().Validate(null, settings);
if (validation.Failed)
{
    Console.Error.WriteLine($"Invalid silo settings: {validation.FailureMessage}");
    return 2;
}

var dataDirectory = Path.GetFullPath(settings.DataDirectory);
Directory.CreateDirectory(dataDirectory);
// the HTTP endpoints start beside the silo, not after it: liveness answers while the silo joins its cluster
builder.Services.Configure<HostOptions>(o => (o.ShutdownTimeout, o.ServicesStartConcurrently) = (TimeSpan.FromSeconds(30), true));
builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenAnyIP(settings.HttpPort));
builder.UseOrleans(silo =>
{
    silo.Configure<SiloOptions>(o => o.SiloName = settings.Name);
    silo.Configure<ClusterMembershipOptions>(builder.Configuration.GetSection("Silo:Membership"));
    if (settings.Clustering == ClusteringKind.Localhost)
    {
        var primary = settings.PrimarySiloPort == settings.SiloPort ? null : new IPEndPoint(IPAddress.Loopback, settings.PrimarySiloPort);
        silo.UseLocalhostClustering(settings.SiloPort, settings.GatewayPort, primary, settings.ServiceId, settings.ClusterId);
    }
    else
    {
        silo.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (settings.ClusterId, settings.ServiceId));
        silo.UseAzureStorageClustering(o => o.TableServiceClient = new TableServiceClient(settings.StorageConnectionString));
        if (settings.AdvertisedAddress() is { } address)
        {
            silo.ConfigureEndpoints(address, settings.SiloPort, settings.GatewayPort, listenOnAnyHostAddress: true);
        }
        else
        {
            silo.ConfigureEndpoints(settings.SiloPort, settings.GatewayPort, listenOnAnyHostAddress: true);
        }
    }

    if (settings.KubernetesHosting)
    {
        silo.UseKubernetesHosting(k8s => k8s.Configure(o => o.DeleteDefunctSiloPods = settings.KubernetesDeleteDefunctSiloPods));
    }

    if (settings.Tls.Enabled)
    {
        silo.UseTls(o => settings.Tls.Configure(o));
    }

    silo.AddOrleansVectors(o =>
    {
        // the models indexes may name: files in "models" under the data directory unless configured
        o.ModelDirectory = Path.Combine(dataDirectory, "models");
        builder.Configuration.GetSection("OrleansVectors").Bind(o);
    });
    if (string.IsNullOrWhiteSpace(settings.StorageConnectionString))
    {
        silo.AddOrleansVectorsFileStorage(dataDirectory);
    }
    else
    {
        silo.AddOrleansVectorsAzureStorage(settings.StorageConnectionString, settings.StorageContainer);
    }
});

// health: liveness is "the process serves HTTP"; readiness is SiloReadiness (joined, every shard restored)
builder.Services.AddHealthChecks().AddCheck<ReadinessCheck>("cluster-and-shards", tags: ["ready"]);

// metrics: the service's meter and Orleans', scraped at /metrics and pushed over OTLP when an endpoint is set
var metrics = builder.Services.AddOpenTelemetry()
    .ConfigureResource(resource => resource.AddService("orleansvectors-silo", serviceInstanceId: settings.Name))
    .WithMetrics(meters =>
    {
        meters.AddMeter(OrleansVectorsMetrics.MeterName, "Microsoft.Orleans").AddPrometheusExporter();
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            meters.AddOtlpExporter();
        }
    });

var app = builder.Build();
app.MapHealthChecks("/healthz/live", new HealthCheckOptions { Predicate = _ => false });
app.MapHealthChecks("/healthz/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready"), ResponseWriter = ReadinessCheck.WriteAsync });
app.MapPrometheusScrapingEndpoint("/metrics");

var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("OrleansVectors.Silo");
var readyFile = Path.Combine(dataDirectory, $"{settings.Name}.ready");
lifetime.ApplicationStarted.Register(() =>
{
    File.WriteAllText(readyFile, $"{Environment.ProcessId}\n");
    SiloLog.Started(logger, settings.Name, settings.Clustering, settings.SiloPort, settings.GatewayPort, settings.HttpPort, settings.Tls.Enabled);
    if (OperatingSystem.IsLinux() && Environment.GetEnvironmentVariable("GLIBC_TUNABLES")?.Contains("glibc.malloc.hugetlb=1", StringComparison.Ordinal) != true)
    {
        SiloLog.SmallPages(logger);
    }
});
lifetime.ApplicationStopping.Register(() => File.Delete(readyFile));
_ = app.Services.GetRequiredService<IOptions<OrleansVectorsOptions>>().Value; // validate before serving
await app.RunAsync();
return 0;

/// <summary>Readiness as a health check: healthy once <see cref="SiloReadiness"/> has no reason to refuse traffic.</summary>
internal sealed class ReadinessCheck(SiloReadiness readiness) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(readiness.NotReadyReason is { } reason ? HealthCheckResult.Unhealthy(reason) : HealthCheckResult.Healthy());

    /// <summary>"Healthy", or "Unhealthy: " and the reason, as plain text.</summary>
    public static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "text/plain; charset=utf-8";
        var reasons = report.Entries.Values.Select(e => e.Description).OfType<string>().ToList();
        return context.Response.WriteAsync(reasons.Count == 0 ? report.Status.ToString() : $"{report.Status}: {string.Join("; ", reasons)}");
    }
}

/// <summary>The host's log messages.</summary>
internal static partial class SiloLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Silo {Name} started: {Clustering} clustering, silo port {SiloPort}, gateway port {GatewayPort}, HTTP port {HttpPort}, TLS {Tls}")]
    public static partial void Started(ILogger logger, string name, ClusteringKind clustering, int siloPort, int gatewayPort, int httpPort, bool tls);

    [LoggerMessage(Level = LogLevel.Warning, Message = "GLIBC_TUNABLES does not hold glibc.malloc.hugetlb=1: faiss's memory is touched in 4 KiB pages, and ingest and restores run slower (see the README, Memory)")]
    public static partial void SmallPages(ILogger logger);
}
