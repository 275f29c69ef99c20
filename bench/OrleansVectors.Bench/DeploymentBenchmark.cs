using Microsoft.Extensions.Logging;
using OrleansVectors.Connections;

namespace OrleansVectors.Bench;

/// <summary>
/// Throughput of the multi-process cluster (1, 2 and 3 silo processes, 6 shards), with TLS off and on, with each
/// silo's CPU use, and a scaling model checked against those points: a batch costs the fan-out and merge (measured
/// on a 6-shard index of a few vectors, where search is free) plus the six shards' searches (measured on six
/// FaissIndex objects holding a sixth of the data each, searched side by side in this process, one thread each).
/// </summary>
internal static class DeploymentBenchmark
{
    private const int Shards = 6;
    private const int BatchSize = 256;
    private const int K = 10;

    public static async Task<int> RunAsync(string[] args)
    {
        var options = new Options(args);
        var count = options.Int("base", 120_000);
        var d = options.Int("dim", 128);
        var rounds = Math.Max(5, options.Int("rounds", 30));
        var singles = Math.Max(50, options.Int("singles", 300));
        var random = new Random(11);
        var vectors = Measurements.Uniform(random, count * d);
        var queries = Measurements.Uniform(random, Math.Max(BatchSize, singles) * d);
        var cores = Environment.ProcessorCount;

        // the model's search term: the six shards' searches of one batch, run side by side as a silo runs them
        // (faiss on one thread each, FaissThreads 1), in this process
        var shards = Enumerable.Range(0, Shards).Select(_ => FaissIndex.Create(d)).ToArray();
        double searchTerm;
        try
        {
            var per = count / Shards;
            for (var i = 0; i < Shards; i++)
            {
                shards[i].Add(vectors.AsSpan(i * per * d, per * d));
            }

            FaissLibrary.ThreadCount = 1;
            searchTerm = Measurements.Timed(5, () => Parallel.For(0, Shards, i => shards[i].Search(queries.AsSpan(0, BatchSize * d), K)));
            FaissLibrary.ThreadCount = 0;
        }
        finally
        {
            Array.ForEach(shards, s => s.Dispose());
        }

        Console.WriteLine($"deployment: Flat L2, d={d}, {count:N0} vectors in {Shards} shards, k={K}; batches of {BatchSize} × {rounds}, {singles} single queries; {cores} cores");
        Console.WriteLine($"  six shards ({count / Shards:N0} vectors each) searching one batch side by side in this process: {searchTerm * 1e3:0.0} ms");
        var folder = Directory.CreateTempSubdirectory("ovf-bench-tls-").FullName;
        var report = new Report("deployment", "silos", "tls", "batch queries/s", "single p50 ms", "single queries/s", "silo CPU (cores, each)", "fan-out ms/batch", "model queries/s", "measured/model");
        try
        {
            using var authority = DevelopmentCertificates.CreateAuthority("OrleansVectors bench CA");
            var siloTls = DevelopmentCertificates.Write(folder, "silo", authority);
            var clientTls = DevelopmentCertificates.Write(folder, "client", authority);
            foreach (var silos in new[] { 1, 2, 3 })
            {
                foreach (var tls in new[] { false, true })
                {
                    await using var cluster = new SiloProcesses(silos, new SiloClusterSetup { Arguments = tls ? DevelopmentCertificates.SiloArguments(siloTls) : [], ProbeTimeout = null });
                    await cluster.StartAllAsync();
                    var connection = cluster.Connection();
                    if (tls)
                    {
                        connection.Tls = clientTls;
                    }

                    using var host = await ClusterConnectionExtensions.ConnectAsync(connection, TimeSpan.FromSeconds(60), logging => logging.SetMinimumLevel(LogLevel.Error));
                    var client = host.Services.GetRequiredService<VectorIndexClient>();
                    await client.CreateIndexAsync("bench", new IndexSpec { Dimension = d, ShardCount = Shards });
                    await client.AddAsync("bench", vectors, d, batchRows: 10_000);
                    await client.CreateIndexAsync("tiny", new IndexSpec { Dimension = d, ShardCount = Shards });
                    await client.AddAsync("tiny", vectors.AsMemory(0, Shards * 10 * d), d);

                    var fanOut = await BatchSecondsAsync(client, "tiny", queries, d, rounds);
                    var cpuBefore = Enumerable.Range(0, silos).Select(cluster.CpuSeconds).ToArray();
                    var clock = Stopwatch.StartNew();
                    var batch = await BatchSecondsAsync(client, "bench", queries, d, rounds);
                    var cpu = cpuBefore.Select((c, i) => (cluster.CpuSeconds(i) - c) / clock.Elapsed.TotalSeconds).ToArray();
                    var (p50, singleRate) = await SinglesAsync(client, queries, d, singles);

                    // the model: fan-out and merge, then the six shard searches on this machine's cores
                    var model = BatchSize / (fanOut + searchTerm);
                    var measured = BatchSize / batch;
                    report.Add(silos, tls ? "on" : "off", measured, p50, singleRate, string.Join(" / ", cpu.Select(c => c.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture))), fanOut * 1e3, model, measured / model);
                    Console.WriteLine($"  {silos} silo(s), TLS {(tls ? "on" : "off")}: {measured:N0} queries/s in batches, single p50 {p50:0.00} ms");
                }
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }

        Console.WriteLine();
        Console.WriteLine($"\nwritten to {report.Write()}");
        Console.WriteLine("model: batch time = fan-out and merge (the 'tiny' index) + the six shards' searches side by side (in-process)");
        return 0;
    }

    /// <summary>Median seconds of a batch of <see cref="BatchSize"/> queries, two batches in flight.</summary>
    private static async Task<double> BatchSecondsAsync(VectorIndexClient client, string index, float[] queries, int d, int rounds)
    {
        var batch = queries.AsMemory(0, BatchSize * d);
        await client.SearchAsync(index, batch, d, K);
        var clock = Stopwatch.StartNew();
        for (var r = 0; r < rounds; r += 2)
        {
            await Task.WhenAll(client.SearchAsync(index, batch, d, K), client.SearchAsync(index, batch, d, K));
        }

        return clock.Elapsed.TotalSeconds / (rounds + (rounds % 2));
    }

    private static async Task<(double P50, double Rate)> SinglesAsync(VectorIndexClient client, float[] queries, int d, int singles)
    {
        var latencies = new double[singles];
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < singles; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await client.SearchAsync("bench", queries.AsMemory(i * d, d), d, K);
            latencies[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        var rate = singles / clock.Elapsed.TotalSeconds;
        Array.Sort(latencies);
        return (latencies[singles / 2], rate);
    }
}
