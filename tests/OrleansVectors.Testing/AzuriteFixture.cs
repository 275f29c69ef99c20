using System.Diagnostics;

namespace OrleansVectors.Testing;

/// <summary>
/// A real Azurite (npm azurite@3.37.0, installed by test.sh under .tools/): its blob and table services on free
/// loopback ports, with its data in a temporary folder; stopped when the tests that share it are done, even when
/// they fail. The bench starts one the same way (<see cref="InitializeAsync"/>, then <see cref="DisposeAsync"/>).
/// </summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    private const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    private readonly string _data = Directory.CreateTempSubdirectory("ovf-azurite-").FullName;
    private Process? _process;

    /// <summary>The connection string of the development account on this Azurite.</summary>
    public string ConnectionString { get; private set; } = "";

    /// <summary>Whether Azurite can be found (AZURITE_BLOB, or .tools/ above the program): the bench leaves its blob rows out otherwise.</summary>
    public static bool IsInstalled => TryFindAzurite() is not null;

    public async Task InitializeAsync()
    {
        // dist/src/azurite.js runs every service; blob/main.js (what AZURITE_BLOB names) only the blob service
        var main = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(FindAzurite())!, "..", "azurite.js"));
        var failures = new List<string>();
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            // a free port can be taken between the probe and Azurite's bind: then try other ports
            if (await TryStartAsync(main, failures))
            {
                return;
            }
        }

        throw new InvalidOperationException($"Azurite did not start in 3 attempts:\n{string.Join("\n", failures)}");
    }

    private async Task<bool> TryStartAsync(string main, List<string> failures)
    {
        var (blob, queue, table) = (LoopbackPorts.Free(), LoopbackPorts.Free(), LoopbackPorts.Free());
        var start = new ProcessStartInfo("node", [main, "--blobHost", "127.0.0.1", "--blobPort", Port(blob), "--queueHost", "127.0.0.1", "--queuePort", Port(queue),
            "--tableHost", "127.0.0.1", "--tablePort", Port(table), "--location", _data, "--skipApiVersionCheck", "--loose"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var services = 0;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                output.Enqueue(line);
            }

            if (e.Data?.Contains("successfully listening", StringComparison.Ordinal) == true && Interlocked.Increment(ref services) == 3)
            {
                listening.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                output.Enqueue(line);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var first = await Task.WhenAny(listening.Task, process.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(60)));
        if (first == listening.Task)
        {
            _process = process;
            ConnectionString = $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AccountKey};"
                + $"BlobEndpoint=http://127.0.0.1:{blob}/devstoreaccount1;TableEndpoint=http://127.0.0.1:{table}/devstoreaccount1;";
            return true;
        }

        failures.Add($"ports {blob}/{queue}/{table}: {(process.HasExited ? $"exited with code {process.ExitCode}" : "not listening after 60 s")}: {string.Join(" | ", output)}");
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process.Dispose();
        return false;
    }

    /// <summary>Freezes the storage service (SIGSTOP): requests to it wait until <see cref="ResumeAsync"/>.</summary>
    public Task PauseAsync() => SignalAsync("-STOP");

    /// <summary>Lets a paused storage service go on (SIGCONT).</summary>
    public Task ResumeAsync() => SignalAsync("-CONT");

    private async Task SignalAsync(string signal)
    {
        using var kill = Process.Start("kill", [signal, _process!.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
        Assert.Equal(0, kill.ExitCode);
    }

    private static string Port(int port) => port.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public Task DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }

        _process?.Dispose();
        Directory.Delete(_data, recursive: true);
        return Task.CompletedTask;
    }

    private static string FindAzurite() => TryFindAzurite()
        ?? throw new InvalidOperationException("Azurite is not installed: run ./test.sh (it installs npm azurite@3.37.0 under .tools/), or set AZURITE_BLOB to its dist/src/blob/main.js.");

    private static string? TryFindAzurite()
    {
        if (Environment.GetEnvironmentVariable("AZURITE_BLOB") is { Length: > 0 } configured)
        {
            return configured;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var main = Path.Combine(dir.FullName, ".tools", "node_modules", "azurite", "dist", "src", "blob", "main.js");
            if (File.Exists(main))
            {
                return main;
            }
        }

        return null;
    }
}

