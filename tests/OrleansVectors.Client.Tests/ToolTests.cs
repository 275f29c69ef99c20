namespace OrleansVectors.Client.Tests;

/// <summary>The command-line tool as a process.</summary>
public sealed class ToolTests
{
    [Fact]
    public async Task With_no_gateway_listening_the_tool_gives_up_in_seconds_with_one_line()
    {
        var port = LoopbackPorts.Free();

        var tool = Path.Combine(AppContext.BaseDirectory, "ovx.dll");
        var start = new ProcessStartInfo("dotnet", [tool, "--gateways", $"{port}", "--connect-timeout", "3", "stats", "anything"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["COLUMNS"] = "400";
        var stopwatch = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var (output, errors) = await WaitForAsync(process, TimeSpan.FromSeconds(60));

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

    [Fact]
    public async Task The_connect_timeout_comes_from_OVX_CONNECT_TIMEOUT_as_the_help_says()
    {
        var port = LoopbackPorts.Free();

        var (code, output, _) = await RunToolWithEnvironmentAsync(new() { ["OVX_CONNECT_TIMEOUT"] = "2", ["OVX_GATEWAYS"] = $"{port}" }, "stats", "anything");
        Assert.Equal(1, code);
        Assert.Contains($"No gateway answered on localhost port {port} within 2 s", output.ReplaceLineEndings(" "), StringComparison.Ordinal);

        string errors;
        (code, _, errors) = await RunToolWithEnvironmentAsync(new() { ["OVX_CONNECT_TIMEOUT"] = "soon" }, "stats", "anything");
        Assert.Equal(2, code);
        Assert.Contains("OVX_CONNECT_TIMEOUT", errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ovx_craete_as_a_process_exits_2_suggesting_create_without_looking_for_a_cluster()
    {
        var (code, output, errors) = await RunToolWithEnvironmentAsync([], "craete", "x", "--dim", "4");
        Assert.Equal(2, code);
        Assert.Contains("unknown command 'craete'; did you mean 'create'?", errors, StringComparison.Ordinal);
        Assert.DoesNotContain("gateway", output + errors, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Json_output_of_stats_describe_query_snapshots_and_kmeans_parses_with_camel_case_names()
    {
        await using var silos = new SiloProcesses(1);
        await silos.StartAsync(0);
        var client = await silos.ConnectAsync();
        const int D = 8;
        var vectors = TestData.Blobs(600, D, 4, seed: 3);
        await client.CreateIndexAsync("tool-json", new IndexSpec { Dimension = D, ShardCount = 2 });
        await client.AddAsync("tool-json", vectors, D);
        await client.SnapshotAsync("tool-json");
        var gateways = string.Join(',', silos.Connection().GatewayPorts);

        foreach (var command in new[] { "stats", "describe" })
        {
            using var stats = await RunToolForJsonAsync("--gateways", gateways, command, "tool-json", "--json");
            Assert.Equal("tool-json", stats.RootElement.GetProperty("name").GetString());
            Assert.Equal(600, stats.RootElement.GetProperty("count").GetInt64());
            Assert.Equal(D, stats.RootElement.GetProperty("dimension").GetInt32());
            Assert.Equal("l2", stats.RootElement.GetProperty("metric").GetString());
            Assert.Equal(2, stats.RootElement.GetProperty("shards").GetArrayLength());
            Assert.Equal(600, stats.RootElement.GetProperty("shards").EnumerateArray().Sum(s => s.GetProperty("count").GetInt64()));
        }

        var queries = Path.Combine(silos.DataDirectory, "queries.fvecs");
        await File.WriteAllBytesAsync(queries, Fvecs(vectors.AsSpan(0, 3 * D).ToArray(), D));
        using (var query = await RunToolForJsonAsync("--gateways", gateways, "query", "tool-json", queries, "--k", "4", "--json"))
        {
            var results = query.RootElement.GetProperty("queries");
            Assert.Equal(3, results.GetArrayLength());
            Assert.False(query.RootElement.GetProperty("partial").GetBoolean());
            for (var q = 0; q < 3; q++)
            {
                var nearest = results[q].GetProperty("neighbors")[0];
                Assert.Equal(4, results[q].GetProperty("neighbors").GetArrayLength());
                Assert.True(nearest.GetProperty("distance").GetSingle() < 1e-3f, nearest.ToString()); // each query is a stored vector
            }
        }

        using (var snapshots = await RunToolForJsonAsync("--gateways", gateways, "snapshots", "tool-json", "--json"))
        {
            Assert.Contains(snapshots.RootElement.GetProperty("snapshots").EnumerateArray(), s => s.GetProperty("count").GetInt64() == 600);
        }

        using var kmeans = await RunToolForJsonAsync("--gateways", gateways, "kmeans", "tool-json", "--k", "4", "--iterations", "5", "--min-points", "1", "--json");
        Assert.Equal(4, kmeans.RootElement.GetProperty("k").GetInt32());
        Assert.Equal(600, kmeans.RootElement.GetProperty("points").GetInt64());
        Assert.Equal(600, kmeans.RootElement.GetProperty("sizes").EnumerateArray().Sum(s => s.GetInt64()));
        Assert.Equal(4, kmeans.RootElement.GetProperty("centroids").GetArrayLength());
        Assert.Equal(D, kmeans.RootElement.GetProperty("centroids")[0].GetArrayLength());
    }

    /// <summary>Runs the tool and parses its standard output, which must be one JSON document and nothing else.</summary>
    private static async Task<System.Text.Json.JsonDocument> RunToolForJsonAsync(params string[] arguments)
    {
        var (code, output, errors) = await RunToolWithEnvironmentAsync([], arguments);
        Assert.True(code == 0, output + errors);
        return System.Text.Json.JsonDocument.Parse(output);
    }

    private static byte[] Fvecs(float[] values, int dimension)
    {
        using var stream = new MemoryStream();
        using var writer = new BinaryWriter(stream);
        for (var row = 0; row < values.Length / dimension; row++)
        {
            writer.Write(dimension);
            foreach (var value in values.AsSpan(row * dimension, dimension))
            {
                writer.Write(value);
            }
        }

        writer.Flush();
        return stream.ToArray();
    }

    /// <summary>Runs the tool as a process with extra environment variables; standard output and error apart, as written.</summary>
    private static async Task<(int Code, string Output, string Errors)> RunToolWithEnvironmentAsync(Dictionary<string, string> environment, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "ovx.dll"), .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["COLUMNS"] = "400";
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var (output, errors) = await WaitForAsync(process, TimeSpan.FromSeconds(120));
        return (process.ExitCode, output, errors);
    }

    /// <summary>The tool's output once it exits; a tool still running after <paramref name="timeout"/> is killed and fails the test.</summary>
    private static async Task<(string Output, string Errors)> WaitForAsync(Process process, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            var output = process.StandardOutput.ReadToEndAsync(deadline.Token);
            var errors = process.StandardError.ReadToEndAsync(deadline.Token);
            await process.WaitForExitAsync(deadline.Token);
            return (await output, await errors);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    private static async Task<(int Code, string Output)> RunToolAsync(params string[] arguments)
    {
        var (code, output, errors) = await RunToolWithEnvironmentAsync([], arguments);
        return (code, (output + errors).ReplaceLineEndings(" "));
    }
}
