using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using OrleansVectors.Client.Hosting;

namespace OrleansVectors.Bench;

/// <summary>
/// Silo processes of the Release silo host on free loopback ports (localhost clustering, the file store in a
/// temporary folder), for the benchmarks; their CPU time is read from /proc. Disposing kills them.
/// </summary>
internal sealed class SiloProcessCluster : IDisposable
{
    private readonly List<Process> _processes = [];
    private readonly string _data = Directory.CreateTempSubdirectory("ovf-bench-silos-").FullName;

    public SiloProcessCluster(int count, IReadOnlyList<string>? arguments = null)
    {
        var silo = Path.Combine(Measurements.RepositoryRoot(), "silo", "bin", "Release", "net10.0", "linux-x64", "OrleansVectors.Silo.dll");
        if (!File.Exists(silo))
        {
            throw new FileNotFoundException($"Build the silo first: dotnet build silo -c Release ({silo} is missing).", silo);
        }

        var ports = Enumerable.Range(0, count).Select(_ => (Silo: FreePort(), Gateway: FreePort(), Http: FreePort())).ToArray();
        GatewayPorts = [.. ports.Select(p => p.Gateway)];
        for (var i = 0; i < count; i++)
        {
            var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in new[]
            {
                silo, "--Silo:Name", $"bench-{i}", "--Silo:SiloPort", Text(ports[i].Silo), "--Silo:GatewayPort", Text(ports[i].Gateway),
                "--Silo:HttpPort", Text(ports[i].Http), "--Silo:PrimarySiloPort", Text(ports[0].Silo), "--Silo:DataDirectory", _data,
                "--OrleansVectors:SnapshotInterval", "00:00:00",
            }.Concat(arguments ?? []))
            {
                info.ArgumentList.Add(argument);
            }

            var process = Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start");
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            _processes.Add(process);
            var ready = Path.Combine(_data, $"bench-{i}.ready");
            for (var wait = 0; !File.Exists(ready); wait++)
            {
                if (process.HasExited || wait > 240)
                {
                    throw new InvalidOperationException($"Silo bench-{i} did not start (exit code {(process.HasExited ? process.ExitCode : 0)}).");
                }

                Thread.Sleep(250);
            }
        }
    }

    public int[] GatewayPorts { get; }

    /// <summary>A client connection to these silos (TLS added by the caller when they use it).</summary>
    public ClusterConnectionOptions Connection() => new() { GatewayPorts = GatewayPorts };

    /// <summary>CPU seconds (user + system) each silo process has used so far.</summary>
    public double[] CpuSeconds() => [.. _processes.Select(p => ReadCpuSeconds(p.Id))];

    public void Dispose()
    {
        foreach (var process in _processes)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
            }

            process.Dispose();
        }

        Directory.Delete(_data, recursive: true);
    }

    /// <summary>utime + stime from /proc/PID/stat (fields 14 and 15, in clock ticks of 1/100 s).</summary>
    private static double ReadCpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    private static string Text(int port) => port.ToString(CultureInfo.InvariantCulture);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
