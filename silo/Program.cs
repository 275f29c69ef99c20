using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using OrleansVectors.Grains.Hosting;
using OrleansVectors.Silo;

// Configuration: appsettings.json, then environment variables (Silo__GatewayPort=30001), then the command
// line (--Silo:GatewayPort 30001). SIGTERM or Ctrl+C stops the silo gracefully: it leaves the cluster and its
// grains deactivate.
var builder = Host.CreateApplicationBuilder(args);
var settings = builder.Configuration.GetSection("Silo").Get<SiloSettings>() ?? new SiloSettings();
var validation = new SiloSettingsValidator().Validate(null, settings);
if (validation.Failed)
{
    Console.Error.WriteLine($"Invalid silo settings: {validation.FailureMessage}");
    return 2;
}

var dataDirectory = Path.GetFullPath(settings.DataDirectory);
Directory.CreateDirectory(dataDirectory);
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
builder.UseOrleans(silo =>
{
    var primary = settings.PrimarySiloPort == settings.SiloPort ? null : new IPEndPoint(IPAddress.Loopback, settings.PrimarySiloPort);
    silo.UseLocalhostClustering(settings.SiloPort, settings.GatewayPort, primary);
    silo.Configure<SiloOptions>(o => o.SiloName = settings.Name);
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

using var host = builder.Build();
var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
var logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("OrleansVectors.Silo");
var readyFile = Path.Combine(dataDirectory, $"{settings.Name}.ready");
lifetime.ApplicationStarted.Register(() =>
{
    File.WriteAllText(readyFile, $"{Environment.ProcessId}\n");
    SiloLog.Ready(logger, settings.Name, settings.SiloPort, settings.GatewayPort);
    if (OperatingSystem.IsLinux() && Environment.GetEnvironmentVariable("GLIBC_TUNABLES")?.Contains("glibc.malloc.hugetlb=1", StringComparison.Ordinal) != true)
    {
        SiloLog.SmallPages(logger);
    }
});
lifetime.ApplicationStopping.Register(() => File.Delete(readyFile));
_ = host.Services.GetRequiredService<IOptions<OrleansVectorsOptions>>().Value; // validate before serving
await host.RunAsync();
return 0;

/// <summary>The host's log messages.</summary>
internal static partial class SiloLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Silo {Name} ready: silo port {SiloPort}, gateway port {GatewayPort}")]
    public static partial void Ready(ILogger logger, string name, int siloPort, int gatewayPort);

    [LoggerMessage(Level = LogLevel.Warning, Message = "GLIBC_TUNABLES does not hold glibc.malloc.hugetlb=1: faiss's memory is touched in 4 KiB pages, and ingest and restores run slower (see the README, Memory)")]
    public static partial void SmallPages(ILogger logger);
}
