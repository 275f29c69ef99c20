using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using Orleans.Configuration;
using OrleansVectors.Connections;
using OrleansVectors.Grains.Diagnostics;
using OrleansVectors.Grains.Hosting;
using OrleansVectors.Silo;

// Configuration: appsettings.json, then environment variables (Silo__GatewayPort=30001), then the command
// line (--Silo:GatewayPort 30001). SIGTERM or Ctrl+C stops the silo gracefully: it leaves the cluster and its
// grains deactivate. README, "Deployment", lists every setting.
// appsettings.json is read from beside the program, wherever it is started from
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.Services.AddOptions<SiloSettings>().BindConfiguration(SiloSettings.SectionName).ValidateOnStart();
builder.Services.AddSingleton<IValidateOptions<SiloSettings>, SiloSettingsValidator>();

// Which providers the silo is built with (membership, storage, Kubernetes) is decided here, from the raw
// configuration; every value they use is read from the validated IOptions<SiloSettings> when the host starts, so a
// setting that breaks its rule stops the silo at start with the setting's name and the rule. A value that does not
// parse here is reported there too (binding SiloSettings fails on it), so these reads only pick a provider.
var section = builder.Configuration.GetSection(SiloSettings.SectionName);
var clustering = Enum.TryParse(section[nameof(SiloSettings.Clustering)], ignoreCase: true, out ClusteringKind kind) ? kind : ClusteringKind.Localhost;
var kubernetes = bool.TryParse(section[nameof(SiloSettings.KubernetesHosting)], out var onKubernetes) && onKubernetes;
var blobStorage = !string.IsNullOrWhiteSpace(section[nameof(SiloSettings.StorageConnectionString)]);

// the HTTP endpoints start beside the silo, not after it: liveness answers while the silo joins its cluster
builder.Services.Configure<HostOptions>(o => (o.ShutdownTimeout, o.ServicesStartConcurrently) = (TimeSpan.FromSeconds(30), true));
builder.Services.AddOptions<KestrelServerOptions>().Configure<IOptions<SiloSettings>>((kestrel, settings) => kestrel.ListenAnyIP(settings.Value.HttpPort));
builder.UseOrleans(silo =>
{
    silo.Services.AddOptions<SiloOptions>().Configure<IOptions<SiloSettings>>((o, settings) => o.SiloName = settings.Value.Name);
    silo.Services.AddOptions<EndpointOptions>().Configure<IOptions<SiloSettings>>((o, settings) => settings.Value.ConfigureEndpoints(o));
    silo.Configure<ClusterMembershipOptions>(section.GetSection("Membership"));
    silo.UseOrleansVectorsCluster<SiloSettings>(clustering, settings => new IPEndPoint(IPAddress.Loopback, settings.PrimarySiloPort));
    if (kubernetes)
    {
        silo.UseKubernetesHosting(k8s => k8s.Configure<IOptions<SiloSettings>>((o, settings) => o.DeleteDefunctSiloPods = settings.Value.KubernetesDeleteDefunctSiloPods));
    }

    silo.AddOrleansVectors();

    // the models indexes may name: files in "models" under the data directory unless OrleansVectors:ModelDirectory says
    silo.Services.AddOptions<OrleansVectorsOptions>().Configure<IOptions<SiloSettings>>((o, settings) => o.ModelDirectory ??= Path.Combine(settings.Value.DataPath, "models"));
    if (blobStorage)
    {
        silo.AddOrleansVectorsAzureStorage(services => Settings(services).StorageConnectionString!, services => Settings(services).StorageContainer);
    }
    else
    {
        silo.AddOrleansVectorsFileStorage(services => Settings(services).DataPath);
    }
});

// health: liveness is "the process serves HTTP"; readiness is SiloReadiness (joined, every shard restored)
builder.Services.AddHealthChecks().AddCheck<ReadinessCheck>("cluster-and-shards", tags: ["ready"]);

// metrics: the service's meter and Orleans', scraped at /metrics and pushed over OTLP when an endpoint is set
var metrics = builder.Services.AddOpenTelemetry()
    .ConfigureResource(resource => resource.AddService("orleansvectors-silo", serviceInstanceId: section[nameof(SiloSettings.Name)] ?? SiloSettings.DefaultName))
    .WithMetrics(meters =>
    {
        meters.AddMeter(OrleansVectorsMetrics.MeterName, "Microsoft.Orleans").AddPrometheusExporter();
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            meters.AddOtlpExporter();
        }
    });

// a setting that breaks its rule stops the host as it is built or started (whichever first reads the options)
try
{
    var app = builder.Build();
    app.MapHealthChecks("/healthz/live", new HealthCheckOptions { Predicate = _ => false });
    app.MapHealthChecks("/healthz/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready"), ResponseWriter = ReadinessCheck.WriteAsync });
    app.MapPrometheusScrapingEndpoint("/metrics");

    var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
    var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("OrleansVectors.Silo");
    string? readyFile = null;
    lifetime.ApplicationStarted.Register(() =>
    {
        var settings = Settings(app.Services);
        readyFile = Path.Combine(Directory.CreateDirectory(settings.DataPath).FullName, $"{settings.Name}.ready");
        File.WriteAllText(readyFile, $"{Environment.ProcessId}\n");
        SiloLog.Started(logger, settings.Name, settings.Clustering, settings.SiloPort, settings.GatewayPort, settings.HttpPort, settings.Tls.Enabled);
        if (OperatingSystem.IsLinux() && Environment.GetEnvironmentVariable("GLIBC_TUNABLES")?.Contains("glibc.malloc.hugetlb=1", StringComparison.Ordinal) != true)
        {
            SiloLog.SmallPages(logger);
        }
    });
    lifetime.ApplicationStopping.Register(() =>
    {
        if (readyFile is not null)
        {
            File.Delete(readyFile);
        }
    });

    await app.RunAsync();
    return 0;
}
catch (OptionsValidationException e)
{
    return BadSettings.Report(e);
}
catch (AggregateException e) when (e.InnerExceptions.All(inner => inner is OptionsValidationException))
{
    // several options types broke their rules at once
    return e.InnerExceptions.Cast<OptionsValidationException>().Select(BadSettings.Report).Max();
}
catch (InvalidOperationException e) when (BadSettings.IsConversion(e))
{
    return BadSettings.Report(e);
}

static SiloSettings Settings(IServiceProvider services) => services.GetRequiredService<IOptions<SiloSettings>>().Value;

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
