using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OrleansVectors.Grains.Hosting;
using OrleansVectors.Inference.Engines;

namespace OrleansVectors.Bench;

/// <summary>
/// Search through the cluster against FaissIndex in the same process, in one run: (a) FaissIndex in-process,
/// (b) one silo (in this process) with one shard, (c) the same silo with four shards, (d) two silo processes with
/// four shards. Flat L2, k=10; batches of 256 queries (throughput) and single queries (latency percentiles).
/// <c>--engine faiss|cpu|auto</c> runs every setup on that search engine (default auto: the fused CPU engine here).
/// </summary>
internal static class ClusterBenchmark
{
    private const int BatchSize = 256;

    public static async Task<int> RunAsync(string[] args)
    {
        var options = new Options(args);
        var count = options.Int("base", 100_000);
        var d = options.Int("dim", 128);
        var k = options.Int("k", 10);
        var rounds = Math.Max(3, options.Int("rounds", 20));
        var singles = Math.Max(20, options.Int("singles", 300));
        var engine = Enum.Parse<SearchEnginePreference>(options.Text("engine", "auto"), ignoreCase: true);
        var random = new Random(7);
        var vectors = Measurements.Uniform(random, count * d);
        var queries = Measurements.Uniform(random, Math.Max(BatchSize, singles) * d);

        Console.WriteLine($"cluster search: Flat L2, d={d}, {count:N0} vectors, k={k}, batches of {BatchSize} × {rounds} rounds, {singles} single queries, engine {engine}");
        var rows = new List<Measurement>();

        using (var index = FaissIndex.Create(d))
        {
            index.UseSearchEngine(new SearchEngineOptions { Preference = engine });
            index.Add(vectors);
            rows.Add(await Measure("(a) FaissIndex in-process", rounds, singles, d, queries,
                q => Task.FromResult(index.Search(q.Span, k).QueryCount)));
        }

        var data = Directory.CreateTempSubdirectory("ovf-bench-cluster-").FullName;
        try
        {
            using (var silo = await StartInProcessSilo(data, engine))
            using (var client = await Connect([30200]))
            {
                var indexes = client.Services.GetRequiredService<VectorIndexClient>();
                foreach (var shards in new[] { 1, 4 })
                {
                    var name = $"bench-{shards}";
                    await Load(indexes, name, shards, vectors, d);
                    rows.Add(await Measure($"({(shards == 1 ? "b" : "c")}) 1 silo, {shards} shard{(shards == 1 ? "" : "s")}", rounds, singles, d, queries,
                        async q => (await indexes.SearchAsync(name, q, d, k)).QueryCount));
                    await indexes.DropIndexAsync(name);
                }

                await silo.StopAsync();
            }

            await using (var processes = new SiloProcesses(2, new SiloClusterSetup { Arguments = ["--OrleansVectors:SearchEngine", engine.ToString()], ProbeTimeout = null }))
            {
                await processes.StartAllAsync();
                var indexes = await processes.ConnectAsync();
                await Load(indexes, "bench-2x4", 4, vectors, d);
                rows.Add(await Measure("(d) 2 silo processes, 4 shards", rounds, singles, d, queries,
                    async q => (await indexes.SearchAsync("bench-2x4", q, d, k)).QueryCount));
            }
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }

        var baseline = rows[0];
        var report = new Report($"cluster-{engine.ToString().ToLowerInvariant()}", "setup", "batch queries/s", "vs (a)", "single p50 ms", "single p99 ms", "added p50 ms");
        foreach (var row in rows)
        {
            report.Add(row.Name, row.Throughput, row.Throughput / baseline.Throughput, row.P50, row.P99, row.P50 - baseline.P50);
        }

        Console.WriteLine();
        Console.WriteLine($"\nwritten to {report.Write()}");
        Console.WriteLine("targets: (b)/(a) batch throughput >= 0.9; added single-query latency <= 1 ms p50");
        return 0;
    }

    private static async Task<Measurement> Measure(string name, int rounds, int singles, int d, float[] queries, Func<ReadOnlyMemory<float>, Task<int>> search)
    {
        var batch = queries.AsMemory(0, BatchSize * d);
        await search(batch);
        var stopwatch = Stopwatch.StartNew();
        for (var r = 0; r < rounds; r++)
        {
            await search(batch);
        }

        var throughput = rounds * BatchSize / stopwatch.Elapsed.TotalSeconds;
        var latencies = new double[singles];
        for (var i = 0; i < singles; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await search(queries.AsMemory(i * d, d));
            latencies[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        Array.Sort(latencies);
        var measurement = new Measurement(name, throughput, latencies[singles / 2], latencies[(int)(singles * 0.99)]);
        Console.WriteLine($"  {measurement.Name}: {measurement.Throughput:N0} queries/s, p50 {measurement.P50:0.000} ms, p99 {measurement.P99:0.000} ms");
        return measurement;
    }

    private static async Task Load(VectorIndexClient indexes, string name, int shards, float[] vectors, int d)
    {
        await indexes.DropIndexAsync(name);
        await indexes.CreateIndexAsync(name, new IndexSpec { Dimension = d, ShardCount = shards });
        await indexes.AddAsync(name, vectors, d, batchRows: 10_000);
    }

    internal static async Task<IHost> StartInProcessSilo(string data, SearchEnginePreference engine = SearchEnginePreference.Auto)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleans(silo => silo
            .UseLocalhostClustering(11211, 30200, null, ClusterConnectionOptions.DefaultServiceId, ClusterConnectionOptions.DefaultClusterId)
            .AddOrleansVectors(o => o.SearchEngine = engine)
            .AddOrleansVectorsFileStorage(Path.Combine(data, "in-process")));
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    internal static Task<IHost> Connect(IList<int> gateways) =>
        ClusterConnectionExtensions.ConnectAsync(new ClusterConnectionOptions { GatewayPorts = gateways }, TimeSpan.FromSeconds(60), logging => logging.SetMinimumLevel(LogLevel.Warning));

    private sealed record Measurement(string Name, double Throughput, double P50, double P99);
}
