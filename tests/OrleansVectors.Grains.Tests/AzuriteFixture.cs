using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace OrleansVectors.Grains.Tests;

/// <summary>
/// A real Azurite blob service (npm azurite@3.37.0, installed by test.sh under .tools/) on a free loopback port,
/// with its data in a temporary folder; stopped when the tests that share it are done, even when they fail.
/// </summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    private const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    private readonly string _data = Directory.CreateTempSubdirectory("ovf-azurite-").FullName;
    private Process? _process;

    /// <summary>The connection string of the development account on this Azurite.</summary>
    public string ConnectionString { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var main = FindAzurite();
        var port = FreePort();
        var start = new ProcessStartInfo("node", [main, "--blobHost", "127.0.0.1", "--blobPort", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--location", _data, "--skipApiVersionCheck", "--loose"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        _process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data?.Contains("successfully listens", StringComparison.Ordinal) == true)
            {
                listening.TrySetResult();
            }
        };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await listening.Task.WaitAsync(TimeSpan.FromSeconds(60));
        ConnectionString = $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AccountKey};BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;";
    }

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

    private static string FindAzurite()
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

        throw new InvalidOperationException("Azurite is not installed: run ./test.sh (it installs npm azurite@3.37.0 under .tools/), or set AZURITE_BLOB to its dist/src/blob/main.js.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

[CollectionDefinition(Name)]
public sealed class AzuriteServer : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "azurite";
}
