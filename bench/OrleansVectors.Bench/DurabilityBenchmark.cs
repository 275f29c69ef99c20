using Azure.Storage.Blobs;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OrleansVectors.Grains.Durability;
using OrleansVectors.Grains.Hosting;
using OrleansVectors.Grains.Storage;
using OrleansVectors.Grains.Topology;

namespace OrleansVectors.Bench;

/// <summary>
/// The durable path against raw baselines in the same run: (1) ingest through one silo with four shards, log
/// fsynced, against FaissIndex.AddWithIds plus the same log append and fsync in-process; (2) snapshot, and
/// recovery after a silo restart, against raw writes and reads of the same bytes, on the file store and on
/// Azurite (BlobClient upload and download with default options).
/// </summary>
internal static class DurabilityBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var options = new Options(args);
        var count = options.Int("base", 1_000_000);
        var d = options.Int("dim", 128);
        var batch = options.Int("batch", 8192);
        var inFlight = options.Int("in-flight", VectorIndexClient.DefaultMaxInFlight);
        var vectors = Measurements.Uniform(new Random(11), count * d);
        var megabytes = (double)count * d * sizeof(float) / (1 << 20);
        Console.WriteLine($"durability: {count:N0} × {d} ({megabytes:N0} MiB), batches of {batch}, 1 silo × 4 shards, Flat L2");
        if (Environment.GetEnvironmentVariable("GLIBC_TUNABLES")?.Contains("glibc.malloc.hugetlb=1", StringComparison.Ordinal) != true)
        {
            Console.WriteLine("  GLIBC_TUNABLES=glibc.malloc.hugetlb=1 is not set: faiss's memory is touched in 4 KiB pages, as a silo without it (README, Memory)");
        }
        var report = new Report("durability", "store", "measure", "ours", "baseline", "ours/baseline", "target");
        var work = Directory.CreateTempSubdirectory("ovf-bench-durability-").FullName;
        try
        {
            var baseline = await IngestBaselineAsync(vectors, d, batch, Path.Combine(work, "baseline"));
            var ingest = await RunStoreAsync("files", silo => silo.AddOrleansVectorsFileStorage(Path.Combine(work, "files")),
                new RawFiles(Path.Combine(work, "raw")), vectors, d, batch, inFlight, report);
            report.Add("files", "ingest vectors/s", ingest, baseline, ingest / baseline, ">= 0.5 and >= 4 × 73k/s (292k/s)");

            if (AzuriteFixture.IsInstalled)
            {
                var server = new AzuriteFixture();
                await server.InitializeAsync();
                try
                {
                    var container = "bench" + Guid.NewGuid().ToString("N")[..12];
                    await RunStoreAsync("azurite", silo => silo.AddOrleansVectorsAzureStorage(server.ConnectionString, container),
                        new RawBlobs(new BlobContainerClient(server.ConnectionString, container + "-raw")), vectors, d, batch, inFlight, report);
                }
                finally
                {
                    await server.DisposeAsync();
                }
            }
            else
            {
                Console.WriteLine("Azurite is not installed (bash native/install-azurite.sh): the blob rows are left out");
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }

        Console.WriteLine();
        Console.WriteLine($"\nwritten to {report.Write()}");
        return 0;
    }

    /// <summary>FaissIndex.AddWithIds plus the same log record appended and fsynced, batch by batch, in this process.</summary>
    private static async Task<double> IngestBaselineAsync(float[] vectors, int d, int batch, string folder)
    {
        var rows = vectors.Length / d;
        using var index = FaissIndex.Create(d, ShardTopology.FaissFactoryOf(new IndexSpec { Dimension = d }));
        await using var log = await new FileDurableStore(folder).CreateAppendOnlyAsync("baseline.log");
        var stopwatch = Stopwatch.StartNew();
        for (var start = 0; start < rows; start += batch)
        {
            var n = Math.Min(batch, rows - start);
            var values = vectors.AsSpan(start * d, n * d).ToArray();
            var ids = Enumerable.Range(start, n).Select(i => (long)i).ToArray();
            await log.AppendAsync([new LogRecord(LogRecordKind.Add, Guid.NewGuid(), false, false, d, ids, values).ToFrame()]);
            index.AddWithIds(values, ids);
        }

        var perSecond = rows / stopwatch.Elapsed.TotalSeconds;
        Console.WriteLine($"  baseline ingest (FaissIndex + log append + fsync): {perSecond:N0} vectors/s");
        return perSecond;
    }

    /// <summary>Ingest, snapshot and recovery on one store; returns the ingest rate.</summary>
    private static async Task<double> RunStoreAsync(string store, Action<ISiloBuilder> storage, IRawStore raw, float[] vectors, int d, int batch, int inFlight, Report report)
    {
        double ingest;
        SnapshotInfo snapshot;
        double snapshotSeconds;
        using (var silo = await StartSiloAsync(storage))
        {
            var indexes = silo.Services.GetRequiredService<VectorIndexClient>();
            await indexes.CreateIndexAsync("bench", new IndexSpec { Dimension = d, ShardCount = 4 });
            var stopwatch = Stopwatch.StartNew();
            await indexes.AddAsync("bench", vectors, d, batchRows: batch, maxInFlight: inFlight);
            ingest = vectors.Length / d / stopwatch.Elapsed.TotalSeconds;
            Console.WriteLine($"  {store}: ingest {ingest:N0} vectors/s");
            stopwatch.Restart();
            snapshot = await indexes.SnapshotAsync("bench");
            snapshotSeconds = stopwatch.Elapsed.TotalSeconds;

            // a small index restored first after the restart, so recovery is timed on a warm silo (as the surviving
            // silos that take over a dead one's shards are), not on the JIT of a new process
            await indexes.CreateIndexAsync("warm-up", new IndexSpec { Dimension = d, ShardCount = 4 });
            await indexes.AddAsync("warm-up", vectors.AsMemory(0, 1000 * d), d);
            await indexes.SnapshotAsync("warm-up");
            await silo.StopAsync();
        }

        // the same bytes, written and read raw, in as many objects as there are shards
        var parts = Enumerable.Range(0, 4).Select(i => new byte[snapshot.Bytes / 4]).ToArray();
        foreach (var part in parts)
        {
            Random.Shared.NextBytes(part);
        }

        var rawWrite = Measurements.Time(() => raw.WriteAsync(parts).GetAwaiter().GetResult());
        var rawRead = Measurements.Time(() => raw.ReadAsync(parts.Length).GetAwaiter().GetResult());

        // recovery: a new silo on the same storage; from its first call to the index until every shard answers
        double recovery;
        using (var silo = await StartSiloAsync(storage))
        {
            var indexes = silo.Services.GetRequiredService<VectorIndexClient>();
            await indexes.CountAsync("warm-up");
            var started = Stopwatch.StartNew();
            var restored = await indexes.CountAsync("bench");
            recovery = started.Elapsed.TotalSeconds;
            if (restored != vectors.Length / d)
            {
                throw new InvalidOperationException($"{store}: {restored} vectors after recovery, expected {vectors.Length / d}");
            }

            await silo.StopAsync();
        }

        var mib = snapshot.Bytes / (double)(1 << 20);
        Console.WriteLine($"  {store}: snapshot {mib:N0} MiB in {snapshotSeconds:0.00} s (raw write {rawWrite:0.00} s); recovery {recovery:0.00} s (raw read {rawRead:0.00} s)");
        report.Add(store, "snapshot MB/s", mib / snapshotSeconds, mib / rawWrite, rawWrite / snapshotSeconds, ">= 0.8");
        report.Add(store, "recovery s (until all shards answer)", recovery, rawRead, recovery / rawRead, "<= 1.25");
        return ingest;
    }

    private static async Task<IHost> StartSiloAsync(Action<ISiloBuilder> storage)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(11411, 30400).AddOrleansVectors(o =>
            {
                o.SnapshotInterval = TimeSpan.Zero;
                o.SnapshotEveryVectors = 0;
                o.RestoreWait = TimeSpan.FromMinutes(5);
            });
            storage(silo);
        });
        builder.Services.AddOrleansVectorsClient();
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    private interface IRawStore
    {
        Task WriteAsync(byte[][] parts);

        Task ReadAsync(int parts);
    }

    /// <summary>Raw files: write and fsync, read whole.</summary>
    private sealed class RawFiles(string folder) : IRawStore
    {
        public async Task WriteAsync(byte[][] parts)
        {
            Directory.CreateDirectory(folder);
            await Task.WhenAll(parts.Select(async (part, i) =>
            {
                await using var stream = new FileStream(Path.Combine(folder, $"{i}.bin"), FileMode.Create, FileAccess.Write, FileShare.None, 0, FileOptions.Asynchronous);
                await stream.WriteAsync(part);
                stream.Flush(flushToDisk: true);
            }));
        }

        public Task ReadAsync(int parts) => Task.WhenAll(Enumerable.Range(0, parts).Select(i => File.ReadAllBytesAsync(Path.Combine(folder, $"{i}.bin"))));
    }

    /// <summary>Raw blobs: BlobClient upload and download with the SDK's default options.</summary>
    private sealed class RawBlobs(BlobContainerClient container) : IRawStore
    {
        public async Task WriteAsync(byte[][] parts)
        {
            await container.CreateIfNotExistsAsync();
            await Task.WhenAll(parts.Select((part, i) => container.GetBlobClient($"{i}.bin").UploadAsync(BinaryData.FromBytes(part), overwrite: true)));
        }

        public Task ReadAsync(int parts) => Task.WhenAll(Enumerable.Range(0, parts).Select(i => container.GetBlobClient($"{i}.bin").DownloadContentAsync()));
    }
}
