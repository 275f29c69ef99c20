using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OrleansVectors.Client.Hosting;

namespace OrleansVectors.Client.Tests;

/// <summary>
/// A local cluster of silo processes (the silo host as built, localhost clustering, the file store under one data
/// folder) on free ports. Every process it started is killed when it is disposed, even after a failed test.
/// </summary>
public sealed class SiloProcesses : IAsyncDisposable
{
    private readonly (int SiloPort, int GatewayPort)[] _ports;
    private readonly Process?[] _silos;
    private readonly string _silo = FindSilo();
    private IHost? _client;

    public SiloProcesses(int count)
    {
        _ports = [.. Enumerable.Range(0, count).Select(_ => (FreePort(), FreePort()))];
        _silos = new Process?[count];
    }

    public string DataDirectory { get; } = Directory.CreateTempSubdirectory("ovf-silos-").FullName;

    /// <summary>Starts silo <paramref name="i"/> and waits until it is ready (the primary, silo 0, first).</summary>
    public async Task StartAsync(int i)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[]
        {
            _silo, "--Silo:Name", $"silo-{i}", "--Silo:SiloPort", Port(_ports[i].SiloPort), "--Silo:GatewayPort", Port(_ports[i].GatewayPort),
            "--Silo:PrimarySiloPort", Port(_ports[0].SiloPort), "--Silo:DataDirectory", DataDirectory,
            "--OrleansVectors:SnapshotInterval", "00:00:00",
        })
        {
            start.ArgumentList.Add(argument);
        }

        var ready = Path.Combine(DataDirectory, $"silo-{i}.ready");
        File.Delete(ready);
        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _silos[i] = process;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (!File.Exists(ready))
        {
            Assert.False(process.HasExited, $"silo-{i} exited with code {(process.HasExited ? process.ExitCode : 0)}");
            Assert.True(DateTime.UtcNow < deadline, $"silo-{i} was not ready within 90 s");
            await Task.Delay(100);
        }
    }

    /// <summary>SIGTERM to silo <paramref name="i"/> (a graceful shutdown, as Kubernetes does); waits for it to exit.</summary>
    public async Task TerminateAsync(int i)
    {
        var process = _silos[i]!;
        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        process.Dispose();
        _silos[i] = null;
    }

    /// <summary>A client of the cluster's gateways; made once, after the silos are up.</summary>
    public async Task<VectorIndexClient> ConnectAsync()
    {
        if (_client is not null)
        {
            await _client.StopAsync();
            _client.Dispose();
        }

        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleansClient(client => client.UseLocalhostClustering([.. _ports.Select(p => p.GatewayPort)]).AddOrleansVectors());
        _client = builder.Build();
        await _client.StartAsync();
        return _client.Services.GetRequiredService<VectorIndexClient>();
    }

    public async ValueTask DisposeAsync()
    {
        if (_client is not null)
        {
            try
            {
                await _client.StopAsync(new CancellationTokenSource(TimeSpan.FromSeconds(5)).Token);
            }
            catch (Exception e) when (e is OperationCanceledException or OrleansException)
            {
            }

            _client.Dispose();
        }

        foreach (var process in _silos.OfType<Process>())
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }

            process.Dispose();
        }

        Directory.Delete(DataDirectory, recursive: true);
    }

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The silo host built beside these tests (same configuration).</summary>
    private static string FindSilo()
    {
        var configuration = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var silo = Path.Combine(dir.FullName, "silo", "bin", configuration, "net10.0", "linux-x64", "OrleansVectors.Silo.dll");
            if (File.Exists(silo))
            {
                return silo;
            }
        }

        throw new InvalidOperationException("The silo host is not built: build OrleansVectors.sln (./test.sh does).");
    }
}
