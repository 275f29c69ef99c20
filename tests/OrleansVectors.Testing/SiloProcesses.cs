using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OrleansVectors.Client;
using OrleansVectors.Client.Hosting;
using OrleansVectors.Connections;

namespace OrleansVectors.Testing;

/// <summary>
/// A cluster of silo processes (the silo host as built) on free loopback ports: localhost clustering with the file
/// store under one data folder, or Azure Table clustering with blob storage. Every process it started is killed
/// when it is disposed, even after a failed test. The tests and the bench both run their multi-process clusters
/// on it.
/// </summary>
public sealed class SiloProcesses : IAsyncDisposable
{
    private readonly (int SiloPort, int GatewayPort, int HttpPort)[] _ports;
    private readonly Process?[] _silos;
    private readonly ConcurrentQueue<string>[] _output;
    private readonly SiloClusterSetup _setup;
    private readonly string _silo = FindSilo();
    private readonly string _clusterId = $"test-{Guid.NewGuid():N}"[..21];
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5) };
    private IHost? _client;

    public SiloProcesses(int count, SiloClusterSetup? setup = null)
    {
        _setup = setup ?? new SiloClusterSetup();
        _ports = [.. Enumerable.Range(0, count).Select(_ => (LoopbackPorts.Free(), LoopbackPorts.Free(), LoopbackPorts.Free()))];
        _silos = new Process?[count];
        _output = [.. Enumerable.Range(0, count).Select(_ => new ConcurrentQueue<string>())];
    }

    /// <summary>The folder every silo writes its ready marker and (with localhost clustering) its files to; deleted on dispose.</summary>
    public string DataDirectory { get; } = Directory.CreateTempSubdirectory("ovf-silos-").FullName;

    /// <summary>How many silos this cluster has (started or not).</summary>
    public int Count => _silos.Length;

    /// <summary>Starts every silo in turn, silo 0 (the primary, with localhost clustering) first, each once the one before has started.</summary>
    public async Task StartAllAsync()
    {
        for (var i = 0; i < Count; i++)
        {
            await StartAsync(i);
        }
    }

    /// <summary>Starts silo <paramref name="i"/> and waits until its host has started (with localhost clustering, silo 0 is the primary: start it first).</summary>
    public async Task StartAsync(int i)
    {
        var process = Launch(i);
        var ready = Path.Combine(DataDirectory, $"silo-{i}.ready");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (!File.Exists(ready))
        {
            Assert.False(process.HasExited, $"silo-{i} exited with code {(process.HasExited ? process.ExitCode : 0)}:\n{Output(i)}");
            Assert.True(DateTime.UtcNow < deadline, $"silo-{i} did not start within 90 s:\n{Output(i)}");
            await Task.Delay(100);
        }
    }

    /// <summary>Starts silo <paramref name="i"/>'s process, without waiting for anything.</summary>
    public Process Launch(int i)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        List<string> arguments =
        [
            _silo, "--Silo:Name", $"silo-{i}", "--Silo:SiloPort", Port(_ports[i].SiloPort), "--Silo:GatewayPort", Port(_ports[i].GatewayPort),
            "--Silo:HttpPort", Port(_ports[i].HttpPort), "--Silo:DataDirectory", DataDirectory, "--OrleansVectors:SnapshotInterval", "00:00:00",
        ];
        if (_setup.ProbeTimeout is { } probeTimeout)
        {
            arguments.AddRange(["--Silo:Membership:ProbeTimeout", probeTimeout.ToString("c", CultureInfo.InvariantCulture)]);
        }

        arguments.AddRange(_setup.StorageConnectionString is { } storage
            ? ["--Silo:Clustering", "AzureTable", "--Silo:StorageConnectionString", storage, "--Silo:ClusterId", _clusterId, "--Silo:AdvertisedIPAddress", "127.0.0.1"]
            : ["--Silo:PrimarySiloPort", Port(_ports[0].SiloPort)]);
        arguments.AddRange(_setup.Arguments);
        arguments.AddRange(_setup.ArgumentsOf?.Invoke(i) ?? []);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var ready = Path.Combine(DataDirectory, $"silo-{i}.ready");
        File.Delete(ready);
        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        _output[i].Clear();
        process.OutputDataReceived += (_, e) => Keep(i, e.Data);
        process.ErrorDataReceived += (_, e) => Keep(i, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _silos[i] = process;
        return process;
    }

    /// <summary>Waits until silo <paramref name="i"/> says it is ready (GET /healthz/ready answers 200).</summary>
    public async Task WaitReadyAsync(int i, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var last = "";
        while (DateTime.UtcNow < deadline)
        {
            (var status, last) = await GetAsync(i, "/healthz/ready");
            if (status == HttpStatusCode.OK)
            {
                return;
            }

            await Task.Delay(200);
        }

        Assert.Fail($"silo-{i} was not ready within {timeout.TotalSeconds:0} s ({last}):\n{Output(i)}");
    }

    /// <summary>GET on silo <paramref name="i"/>'s HTTP port: the status (0 when nothing answered) and the body.</summary>
    public async Task<(HttpStatusCode Status, string Body)> GetAsync(int i, string path)
    {
        try
        {
            using var response = await _http.GetAsync(new Uri($"http://127.0.0.1:{_ports[i].HttpPort}{path}"));
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return (0, e.Message);
        }
    }

    /// <summary>SIGTERM to silo <paramref name="i"/> (a graceful shutdown, as Kubernetes does); waits for it to exit.</summary>
    public Task TerminateAsync(int i) => SignalAsync(i, "-TERM");

    /// <summary>SIGKILL to silo <paramref name="i"/> (a crash: no goodbye to the cluster); waits for it to exit.</summary>
    public Task KillAsync(int i) => SignalAsync(i, "-KILL");

    /// <summary>
    /// CPU seconds (user + system) silo <paramref name="i"/>'s process has used so far, from /proc/PID/stat.
    /// </summary>
    /// <exception cref="InvalidOperationException">The silo is not running.</exception>
    public double CpuSeconds(int i)
    {
        var process = _silos[i] is { HasExited: false } running ? running : throw new InvalidOperationException($"silo-{i} is not running.");
        var stat = File.ReadAllText($"/proc/{process.Id}/stat");

        // the command name (field 2) may hold spaces: count the fields after its closing parenthesis; utime and
        // stime are fields 14 and 15, in clock ticks of 1/100 s (USER_HZ on Linux)
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    /// <summary>The last lines silo <paramref name="i"/> wrote, for failure messages.</summary>
    public string Output(int i) => string.Join('\n', _output[i]);

    /// <summary>How a client reaches this cluster (change a copy for TLS or a wrong key).</summary>
    public ClusterConnectionOptions Connection() => _setup.StorageConnectionString is { } storage
        ? new ClusterConnectionOptions { Clustering = ClusteringKind.AzureTable, StorageConnectionString = storage, ClusterId = _clusterId }
        : new ClusterConnectionOptions { GatewayPorts = [.. _ports.Select(p => p.GatewayPort)] };

    /// <summary>A client of the cluster, made once the silos are up (a second call replaces the first).</summary>
    public async Task<VectorIndexClient> ConnectAsync(ClusterConnectionOptions? connection = null)
    {
        if (_client is not null)
        {
            await _client.StopAsync();
            _client.Dispose();
        }

        _client = await ClusterConnectionExtensions.ConnectAsync(connection ?? Connection(), TimeSpan.FromSeconds(60), logging => logging.SetMinimumLevel(LogLevel.Warning));
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

        _http.Dispose();
        Directory.Delete(DataDirectory, recursive: true);
    }

    private async Task SignalAsync(int i, string signal)
    {
        var process = _silos[i]!;
        using (var kill = Process.Start("kill", [signal, process.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        process.Dispose();
        _silos[i] = null;
    }

    private void Keep(int i, string? line)
    {
        if (line is null)
        {
            return;
        }

        _output[i].Enqueue(line);
        while (_output[i].Count > 200 && _output[i].TryDequeue(out _))
        {
        }
    }

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);

    /// <summary>The silo host built beside the program that runs this (same configuration: Debug or Release).</summary>
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

        throw new InvalidOperationException($"The silo host is not built for {configuration}: dotnet build silo -c {configuration} (./test.sh builds it for the tests).");
    }
}
