using System.Diagnostics;

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
}
