using System.Diagnostics;
using OrleansVectors.GrainInterfaces;
using OrleansVectors.Inference.Tests.Support;

namespace OrleansVectors.Client.Tests;

/// <summary>The command-line tool as a process.</summary>
public sealed class ToolTests
{
    [Fact]
    public async Task With_no_gateway_listening_the_tool_gives_up_in_seconds_with_one_line()
    {
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        var port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop(); // nothing listens there now

        var tool = Path.Combine(AppContext.BaseDirectory, "ovx.dll");
        var start = new ProcessStartInfo("dotnet", [tool, "--gateways", $"{port}", "--connect-timeout", "3", "stats", "anything"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["COLUMNS"] = "400";
        var stopwatch = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var errors = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(1, process.ExitCode);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(30), $"took {stopwatch.Elapsed}");
        Assert.Contains($"No gateway answered on localhost port {port} within 3 s", output.ReplaceLineEndings(" "), StringComparison.Ordinal);
        Assert.Empty(errors);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal); // no stack trace
    }

    [Fact]
    public async Task Ovx_kmeans_runs_k_means_on_the_cluster_and_prints_sizes_and_the_objective()
    {
        await using var silos = new SiloProcesses(1);
        await silos.StartAsync(0);
        var client = await silos.ConnectAsync();
        await client.CreateIndexAsync("tool-kmeans", new IndexSpec { Dimension = 8, ShardCount = 3 });
        await client.AddAsync("tool-kmeans", TestData.Blobs(1500, 8, 5, seed: 2), 8);

        var (code, output) = await RunToolAsync("--gateways", string.Join(',', silos.Connection().GatewayPorts), "kmeans", "tool-kmeans", "--k", "5", "--iterations", "7", "--min-points", "1");
        Assert.True(code == 0, output);
        Assert.Contains("k-means over 1,500 vectors", output, StringComparison.Ordinal);
        Assert.Contains("in 7 iterations", output, StringComparison.Ordinal);
        var result = await client.GetKMeansResultAsync("tool-kmeans");
        Assert.Equal(1500, result!.Points);

        (code, output) = await RunToolAsync("--gateways", string.Join(',', silos.Connection().GatewayPorts), "kmeans", "tool-kmeans", "--k", "5000");
        Assert.Equal(1, code);
        Assert.Contains("needs at least 5000 vectors", output, StringComparison.Ordinal);
    }

    private static async Task<(int Code, string Output)> RunToolAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "ovx.dll"), .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["COLUMNS"] = "400";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(120));
        return (process.ExitCode, (await output + errors).ReplaceLineEndings(" "));
    }
}
