namespace OrleansVectors.Grains.Tests;

/// <summary>
/// Nothing acknowledged is lost: silos killed, stopped, or all restarted; snapshots cut short; corrupt blobs and
/// torn log tails. Run once against files and once against a real Azurite.
/// </summary>
public abstract class DurabilityTests
{
    private const int D = 16;

    protected abstract Task<DurableCluster> StartAsync(Action<OrleansVectorsOptions>? configure = null);

    [Fact]
    public async Task A_killed_silo_loses_no_acknowledged_vector_and_adds_keep_working()
    {
        await using var cluster = await StartAsync();
        await cluster.Index("crash").CreateAsync(new IndexSpec { Dimension = D, ShardCount = 6 });
        var vectors = TestData.Uniform(3000, D, seed: 1);
        await cluster.AddAllAsync("crash", vectors, D, batchSize: 100);
        var queries = TestVectors.Batch(vectors, D, 0, 20);
        var before = await cluster.Query.SearchAsync("crash", queries, 10);

        // adds run on while the silo dies; each is retried under its batch id until acknowledged
        var victim = await cluster.SecondarySiloHostingAsync("crash");
        var more = TestData.Uniform(1000, D, seed: 2);
        var adding = cluster.AddAllAsync("crash", more, D, batchSize: 50);
        await cluster.Cluster.KillSiloAsync(victim);
        await adding;

        Assert.Equal(4000, await DurableCluster.RetryWhileRecoveringAsync(() => cluster.Index("crash").CountAsync()));
        var description = await cluster.Index("crash").DescribeAsync();
        Assert.DoesNotContain(description.Shards, s => s.Silo == victim.SiloAddress.ToString());
        var after = await cluster.Query.SearchAsync("crash", queries, 10);
        var again = await cluster.Query.SearchAsync("crash", TestVectors.Batch(more, D, 0, 20), 1);
        // numbered from 3000 on, or past a skipped id block when the index grain's silo was the one that died
        var first = (await adding)[0].FirstId;
        Assert.True(first >= 3000);
        Assert.Equal(Enumerable.Range(0, 20).Select(i => first + i), again.Labels.ToArray());
        AssertSameNeighbours(before, after, newIdsFrom: 3000);
    }

    [Fact]
    public async Task A_stopped_silo_loses_nothing()
    {
        await using var cluster = await StartAsync();
        await cluster.Index("graceful").CreateAsync(new IndexSpec { Dimension = D, ShardCount = 4, Metric = VectorMetric.InnerProduct });
        var vectors = TestData.Uniform(2000, D, seed: 3);
        await cluster.AddAllAsync("graceful", vectors, D, batchSize: 200);
        await cluster.Index("graceful").SnapshotAsync();
        await cluster.AddAllAsync("graceful", TestData.Uniform(500, D, seed: 4), D, batchSize: 100); // log after the snapshot
        var queries = TestVectors.Batch(vectors, D, 100, 20);
        var before = await cluster.Query.SearchAsync("graceful", queries, 5);

        await cluster.Cluster.StopSiloAsync(await cluster.SecondarySiloHostingAsync("graceful"));

        Assert.Equal(2500, await DurableCluster.RetryWhileRecoveringAsync(() => cluster.Index("graceful").CountAsync()));
        AssertSameNeighbours(before, await cluster.Query.SearchAsync("graceful", queries, 5));
    }

    [Fact]
    public async Task A_silo_killed_during_a_snapshot_loses_nothing_and_the_previous_version_restores()
    {
        await using var cluster = await StartAsync();
        var index = cluster.Index("mid-snapshot");
        await index.CreateAsync(new IndexSpec { Dimension = D, ShardCount = 6 });
        await cluster.AddAllAsync("mid-snapshot", TestData.Uniform(1500, D, seed: 5), D, batchSize: 150);
        var first = await index.SnapshotAsync();
        await cluster.AddAllAsync("mid-snapshot", TestData.Uniform(1500, D, seed: 6), D, batchSize: 150);

        var victim = await cluster.SecondarySiloHostingAsync("mid-snapshot");
        var snapshot = index.SnapshotAsync();
        await cluster.Cluster.KillSiloAsync(victim);
        try
        {
            // it may have committed before the kill, or not at all. When the index grain was on the killed silo, the
            // request was forwarded there by a gateway, and the client hears nothing until its response timeout
            // (5 min for snapshots): the outcome is not what this test is about, so it waits a bounded time.
            await snapshot.WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (Exception e) when (e is ShardUnavailableException or TimeoutException or SiloUnavailableException or OrleansMessageRejectionException)
        {
        }

        Assert.Equal(3000, await DurableCluster.RetryWhileRecoveringAsync(() => index.CountAsync()));
        var restored = await DurableCluster.RetryWhileRecoveringAsync(() => index.RestoreAsync(first.Version));
        Assert.Equal(1500, restored.Count);
        Assert.Equal(1500, await index.CountAsync());
        Assert.True(restored.Version > first.Version);
    }

    [Fact]
    public async Task An_index_grain_that_reactivates_reads_back_the_spec_it_was_created_with()
    {
        await using var cluster = await StartAsync();
        // every field at a value its type defaults to where the record's initializer says otherwise
        var spec = new IndexSpec { Dimension = D, Metric = VectorMetric.InnerProduct, ShardCount = 2, NormalizeEmbeddings = false };
        var index = cluster.Index("spec-kept");
        await index.CreateAsync(spec);

        await cluster.Cluster.DeactivateAsync(index);

        Assert.Equal(spec, await index.GetSpecAsync());
    }

    [Fact]
    public async Task A_corrupt_snapshot_is_named_and_the_previous_version_restores()
    {
        await using var cluster = await StartAsync();
        var index = cluster.Index("corrupt-snapshot");
        await index.CreateAsync(new IndexSpec { Dimension = D, ShardCount = 2 });
        var vectors = TestData.Uniform(1000, D, seed: 7);
        await cluster.AddAllAsync("corrupt-snapshot", vectors, D, batchSize: 100);
        var first = await index.SnapshotAsync();
        await cluster.AddAllAsync("corrupt-snapshot", TestData.Uniform(400, D, seed: 8), D, batchSize: 100);
        await index.SnapshotAsync();

        var blob = (await cluster.Store.ListAsync("indexes/")).Single(p => p.Contains("/snapshots/000000000002/0000-", StringComparison.Ordinal));
        await FlipByteAsync(cluster, blob, fromEnd: 100);
        await cluster.Cluster.DeactivateAsync(cluster.Shard("corrupt-snapshot", 0));

        var error = await Assert.ThrowsAnyAsync<Exception>(() => index.CountAsync());
        Assert.Contains(blob, error.Message, StringComparison.Ordinal);

        Assert.Equal(1000, (await index.RestoreAsync(first.Version)).Count);
        Assert.Equal(1000, await index.CountAsync());
        var self = await cluster.Query.SearchAsync("corrupt-snapshot", TestVectors.Batch(vectors, D, 0, 10), 1);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), self.Labels.ToArray());
    }

    [Fact]
    public async Task A_torn_last_log_record_is_dropped_and_a_corrupt_one_is_named()
    {
        await using var cluster = await StartAsync();
        var index = cluster.Index("torn");
        await index.CreateAsync(new IndexSpec { Dimension = D, ShardCount = 1 });
        await cluster.AddAllAsync("torn", TestData.Uniform(300, D, seed: 9), D, batchSize: 100);
        await cluster.Cluster.DeactivateAsync(cluster.Shard("torn", 0));

        // a crash in the middle of an append: the record's first bytes only
        var segment = (await cluster.Store.ListAsync("indexes/")).Single(p => p.EndsWith(".log", StringComparison.Ordinal));
        var record = new LogRecord(LogRecordKind.Add, Guid.NewGuid(), false, false, D, [300], new float[D]).ToFrame();
        var content = (await cluster.Store.ReadAsync(segment))!.Content.ToArray();
        await RewriteAsync(cluster, segment, [.. content, .. record.AsSpan(0, record.Length / 2)]);
        Assert.Equal(300, await index.CountAsync());

        // a whole record with a wrong byte is corruption, named
        await cluster.Cluster.DeactivateAsync(cluster.Shard("torn", 0));
        await FlipByteAsync(cluster, segment, fromEnd: content.Length / 2);
        await cluster.Cluster.DeactivateAsync(cluster.Shard("torn", 0));
        var error = await Assert.ThrowsAnyAsync<Exception>(() => index.CountAsync());
        Assert.Contains(segment, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Retention_restore_by_version_and_named_save_and_load()
    {
        await using var cluster = await StartAsync(o => o.RetainSnapshots = 2);
        var index = cluster.Index("versions");
        await index.CreateAsync(new IndexSpec { Dimension = D, ShardCount = 3 });
        var vectors = TestData.Uniform(800, D, seed: 10);
        var versions = new List<SnapshotInfo>();
        for (var step = 0; step < 4; step++)
        {
            await cluster.AddAllAsync("versions", TestVectors.Batch(vectors, D, step * 200, 200).Values.ToArray(), D, batchSize: 100);
            versions.Add(await index.SnapshotAsync());
        }

        var listed = await index.ListSnapshotsAsync();
        Assert.Equal([3L, 4L], listed.Select(s => s.Version));
        Assert.Equal([600L, 800L], listed.Select(s => s.Count));
        await Assert.ThrowsAsync<ArgumentException>(() => index.RestoreAsync(1));

        var restored = await index.RestoreAsync(3);
        Assert.Equal(600, restored.Count);
        Assert.Equal(600, await index.CountAsync());
        var queries = TestVectors.Batch(vectors, D, 0, 30);
        var atThree = await cluster.Query.SearchAsync("versions", queries, 5);

        // saved: outlives retention and drop, loads into a fresh index with the saved spec
        await index.SaveAsync("before-drop");
        for (var i = 0; i < 3; i++)
        {
            await index.SnapshotAsync();
        }

        await index.DropAsync();
        await Assert.ThrowsAsync<IndexNotFoundException>(() => index.CountAsync());
        var loaded = await index.LoadAsync("before-drop");
        Assert.Equal(600, loaded.Count);
        Assert.Equal(600, await index.CountAsync());
        AssertSameNeighbours(atThree, await cluster.Query.SearchAsync("versions", queries, 5));
        Assert.Contains(await index.ListSnapshotsAsync(), s => s.Name == "before-drop");
        await Assert.ThrowsAsync<ArgumentException>(() => index.LoadAsync("never-saved"));
        await Assert.ThrowsAsync<ArgumentException>(() => index.SaveAsync("../escape"));

        // numbering goes on after the saved vectors
        var receipt = await cluster.AddAsync("versions", TestVectors.Batch(vectors, D, 0, 1));
        Assert.True(receipt.FirstId >= 800);
    }

    [Fact]
    public async Task A_batch_sent_twice_under_one_batch_id_is_stored_once()
    {
        await using var cluster = await StartAsync();
        await cluster.Index("retry").CreateAsync(new IndexSpec { Dimension = D, ShardCount = 3 });
        var batch = VectorBatch.FromRows(TestData.Uniform(50, D, seed: 11), D);
        var batchId = Guid.NewGuid();

        // the first attempt lands but its caller gives up (an injected timeout), so the batch is sent again
        var first = cluster.AddAsync("retry", batch, batchId: batchId);
        var concurrent = await cluster.AddAsync("retry", batch, batchId: batchId);
        var later = await cluster.AddAsync("retry", batch, batchId: batchId);
        Assert.Equal(await first, concurrent);
        Assert.Equal(concurrent, later);
        Assert.Equal(50, await cluster.Index("retry").CountAsync());

        // also after the shard was reloaded from its log
        await cluster.Cluster.DeactivateAsync(cluster.Shard("retry", concurrent.Shard));
        Assert.Equal(concurrent, await cluster.AddAsync("retry", batch, batchId: batchId));
        Assert.Equal(50, await cluster.Index("retry").CountAsync());
        Assert.Equal(50, (await cluster.AddAsync("retry", batch)).FirstId);
    }

    [Fact]
    public async Task The_whole_cluster_restarted_answers_identically()
    {
        await using var cluster = await StartAsync();
        await cluster.Index("restart").CreateAsync(new IndexSpec { Dimension = D, ShardCount = 4, Factory = "IVF8,Flat" });
        var vectors = TestData.Uniform(2000, D, seed: 12);
        await cluster.AddAllAsync("restart", vectors, D, batchSize: 250);
        await cluster.Index("restart").SnapshotAsync();
        await cluster.AddAllAsync("restart", TestData.Uniform(400, D, seed: 13), D, batchSize: 100);
        var queries = TestVectors.Batch(vectors, D, 0, 25);
        var options = new QueryOptions { NProbe = 8 };
        var before = await cluster.Query.SearchAsync("restart", queries, 10, options);

        await cluster.Cluster.StopAllSilosAsync();
        await cluster.Cluster.StartSilosAsync(3);
        await cluster.Cluster.InitializeClientAsync();

        Assert.Equal(2400, await DurableCluster.RetryWhileRecoveringAsync(() => cluster.Index("restart").CountAsync()));
        AssertSameNeighbours(before, await cluster.Query.SearchAsync("restart", queries, 10, options));
    }

    private static async Task FlipByteAsync(DurableCluster cluster, string path, int fromEnd)
    {
        var content = (await cluster.Store.ReadAsync(path))!.Content.ToArray();
        content[^fromEnd] ^= 0x5A;
        await RewriteAsync(cluster, path, content);
    }

    private static async Task RewriteAsync(DurableCluster cluster, string path, byte[] content)
    {
        await cluster.Store.DeleteAsync(path); // an append blob cannot be overwritten as a block blob
        await cluster.Store.WriteAsync(path, content);
    }

    /// <summary>Same neighbours and distances, ignoring neighbours with ids from <paramref name="newIdsFrom"/> on (added later).</summary>
    private static void AssertSameNeighbours(NeighborResults expected, NeighborResults actual, long newIdsFrom = long.MaxValue)
    {
        Assert.Equal(expected.QueryCount, actual.QueryCount);
        for (var q = 0; q < expected.QueryCount; q++)
        {
            var kept = actual.LabelsOf(q).ToArray().Where(id => id < newIdsFrom).ToArray();
            var want = expected.LabelsOf(q).ToArray()[..kept.Length];
            Assert.Equal(want, kept);
        }

        if (newIdsFrom == long.MaxValue)
        {
            Assert.Equal(expected.Distances.ToArray(), actual.Distances.ToArray());
        }
    }
}

/// <summary>The durability tests on the embedded file store.</summary>
public sealed class FileStoreDurabilityTests : DurabilityTests
{
    protected override Task<DurableCluster> StartAsync(Action<OrleansVectorsOptions>? configure = null)
    {
        var root = Directory.CreateTempSubdirectory("ovf-durable-").FullName;
        return DurableCluster.StartAsync(silo => silo.AddOrleansVectorsFileStorage(root), () => Directory.Delete(root, recursive: true), configure);
    }
}

/// <summary>The durability tests on Azure Blob storage, against a real Azurite.</summary>
[Collection(AzuriteServer.Name)]
public sealed class BlobStoreDurabilityTests(AzuriteFixture azurite) : DurabilityTests
{
    protected override Task<DurableCluster> StartAsync(Action<OrleansVectorsOptions>? configure = null)
    {
        var container = "t" + Guid.NewGuid().ToString("N")[..20];
        return DurableCluster.StartAsync(silo => silo.AddOrleansVectorsAzureStorage(azurite.ConnectionString, container), null, configure);
    }
}
