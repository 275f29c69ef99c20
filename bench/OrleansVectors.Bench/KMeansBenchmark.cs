using Microsoft.Extensions.Hosting;

namespace OrleansVectors.Bench;

/// <summary>
/// k-means over the cluster against single-node faiss k-means on the same data in the same run: 100k × 64 into 256
/// centroids, 20 iterations (faiss's defaults otherwise: a sample of 256 points a centroid). Distributed: one silo
/// in this process with 4 shards, and 2 silo processes with 4 shards. Runs alternate with the baseline.
/// </summary>
internal static class KMeansBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var options = new Options(args);
        var n = options.Int("base", 100_000);
        var d = options.Int("dim", 64);
        var k = options.Int("k", 256);
        var iterations = options.Int("iterations", 20);
        var reps = Math.Max(1, options.Int("reps", 3));
        var data = Mixture(n, d, clusters: 400, seed: 3);
        var kmeans = new FaissKMeansOptions { Iterations = iterations, Verbose = options.Int("verbose", 0) > 0 };
        Console.WriteLine($"k-means: {n:N0} × {d} into {k} centroids, {iterations} iterations (training sample {Math.Min(n, k * kmeans.MaxPointsPerCentroid):N0}), {reps} alternating runs");

        var rows = new List<(string Name, List<double> Seconds, List<double> Baseline, List<double> Objective)>();
        var folder = Directory.CreateTempSubdirectory("ovf-bench-kmeans-").FullName;
        try
        {
            using (var silo = await ClusterBenchmark.StartInProcessSilo(folder))
            using (var client = await ClusterBenchmark.Connect([30200]))
            {
                rows.Add(await MeasureAsync("1 silo (in-process) × 4 shards", client, data, d, k, kmeans, reps));
                await silo.StopAsync();
            }

            await using (var processes = new SiloProcesses(2, new SiloClusterSetup { ProbeTimeout = null }))
            {
                await processes.StartAllAsync();
                using var client = await ClusterBenchmark.Connect(processes.Connection().GatewayPorts);
                rows.Add(await MeasureAsync("2 silo processes × 4 shards", client, data, d, k, kmeans, reps));
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }

        // each run against the faiss run beside it: the machine's drift hits both
        var report = new Report("kmeans", "setup", "total s (median)", "s per iteration", "faiss s (median)", "vs faiss (median of runs)", "vs faiss (min–max)", "final objective / faiss's");
        foreach (var (name, seconds, baseline, objective) in rows)
        {
            var ratios = seconds.Zip(baseline, (a, b) => a / b).ToList();
            var total = Measurements.Median(seconds);
            report.Add(name, total, total / iterations, Measurements.Median(baseline), Measurements.Median(ratios), $"{ratios.Min():0.00}–{ratios.Max():0.00}", Measurements.Median(objective));
        }

        Console.WriteLine();
        Console.WriteLine($"\nwritten to {report.Write()}");
        Console.WriteLine("target: 1 silo × 4 shards within 1.2× of single-node faiss");
        return 0;
    }

    /// <summary>Alternates the distributed run with the single-node baseline; returns both runs' seconds and the objective ratios.</summary>
    private static async Task<(string, List<double>, List<double>, List<double>)> MeasureAsync(
        string name, IHost host, float[] data, int d, int k, FaissKMeansOptions kmeans, int reps)
    {
        var baseline = new List<double>();
        var client = host.Services.GetRequiredService<VectorIndexClient>();
        await client.CreateIndexAsync("kmeans-bench", new IndexSpec { Dimension = d, ShardCount = 4 });
        await client.AddAsync("kmeans-bench", data, d, batchRows: 10_000);
        var seconds = new List<double>();
        var ratios = new List<double>();
        await client.KMeansAsync("kmeans-bench", k, kmeans with { Iterations = 2 }, storeAssignments: false); // warm-up: code paths compiled, connections up
        for (var rep = 0; rep < reps; rep++)
        {
            FaissLibrary.ThreadCount = 0; // every core for the baseline (an in-process silo sets faiss's threads process-wide)
            var clock = Stopwatch.StartNew();
            var local = FaissClustering.KMeans(data, d, k, kmeans with { Seed = 1234 + rep });
            baseline.Add(clock.Elapsed.TotalSeconds);

            clock.Restart();
            var distributed = await client.KMeansAsync("kmeans-bench", k, kmeans with { Seed = 1234 + rep }, storeAssignments: false);
            seconds.Add(clock.Elapsed.TotalSeconds);
            ratios.Add(distributed.Objective[^1] / local.Objective[^1]);
            Console.WriteLine($"  {name}, run {rep + 1}: {seconds[^1]:0.000} s; faiss {baseline[^1]:0.000} s");
        }

        await client.DropIndexAsync("kmeans-bench");
        return (name, seconds, baseline, ratios);
    }

    /// <summary>Gaussian blobs (σ 0.3) around uniform centres in [-1, 1).</summary>
    private static float[] Mixture(int n, int d, int clusters, int seed)
    {
        var random = new Random(seed);
        var centres = Measurements.Uniform(random, clusters * d).Select(v => (v * 2) - 1).ToArray();
        var values = new float[n * d];
        for (var i = 0; i < n; i++)
        {
            var c = random.Next(clusters);
            for (var j = 0; j < d; j++)
            {
                var gaussian = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
                values[(i * d) + j] = centres[(c * d) + j] + (float)(0.3 * gaussian);
            }
        }

        return values;
    }
}
