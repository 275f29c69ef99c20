using OrleansVectors.Grains.Shards;

namespace OrleansVectors.Grains.Tests.Shards;

/// <summary>The shard's durable core without a cluster: replay, snapshots, retries, and changes during a snapshot.</summary>
public sealed class ShardCoreTests
{
    [Fact]
    public async Task A_torn_last_record_is_dropped_on_replay_and_the_shard_takes_new_writes()
    {
        await using var shards = new ShardCoreHarness();
        var vectors = shards.Vectors(40, seed: 1);
        var core = await shards.OpenAsync();
        Guid[] batchIds = [Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid()];
        for (var b = 0; b < batchIds.Length; b++)
        {
            await shards.AddAsync(core, vectors, b * 10, 10, batchIds[b]);
        }

        await core.CloseAsync();

        // a crash in the middle of the last append: the first half of its record only (three records of one size)
        var segment = Assert.Single(await shards.LogSegmentsAsync());
        var content = (await shards.Files.ReadAsync(segment))!.Content;
        await shards.Files.WriteAsync(segment, content[..(content.Length - (content.Length / 3 / 2))]);

        var reopened = await shards.OpenAsync();
        await shards.AssertHoldsExactlyAsync(reopened, vectors, 0, 20);
        Assert.All(await shards.NearestAsync(reopened, shards.Rows(vectors, 20, 10)), id => Assert.InRange(id, 0, 19));

        // the torn batch was never acknowledged: sent again it is stored, not taken for a retry; new batches are stored too
        Assert.False((await shards.AddAsync(reopened, vectors, 20, 10, batchIds[2])).Retried);
        await shards.AddAsync(reopened, vectors, 30, 10);
        Assert.Equal(40, reopened.Count);
        await reopened.CloseAsync();

        // they went to a segment after the torn one, and everything replays
        Assert.Equal(2, (await shards.LogSegmentsAsync()).Count);
        await shards.AssertHoldsExactlyAsync(await shards.OpenAsync(), vectors, 0, 40);
    }

    [Fact]
    public async Task A_whole_record_with_a_wrong_byte_fails_the_load_naming_its_segment()
    {
        await using var shards = new ShardCoreHarness();
        var core = await shards.OpenAsync();
        var vectors = shards.Vectors(20, seed: 4);
        await shards.AddAsync(core, vectors, 0, 10);
        await shards.AddAsync(core, vectors, 10, 10);
        await core.CloseAsync();

        var segment = Assert.Single(await shards.LogSegmentsAsync());
        var content = (await shards.Files.ReadAsync(segment))!.Content.ToArray();
        content[content.Length / 4] ^= 0x5A; // inside the first record: not a torn tail
        await shards.Files.WriteAsync(segment, content);

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => shards.OpenAsync());
        Assert.Contains(segment, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_snapshot_and_the_log_after_it_rebuild_the_same_index()
    {
        await using var shards = new ShardCoreHarness();
        var generation = shards.Generation;
        var vectors = shards.Vectors(300, seed: 2);
        var core = await shards.OpenAsync();

        // caller ids, so that both the snapshot and the log carry the ids the shard tracks
        for (var b = 0; b < 4; b++)
        {
            await shards.AddAsync(core, vectors, b * 50, 50, firstId: 1000 + (b * 50), callerIds: true);
        }

        var snapshot = await shards.SnapshotAsync(core);
        Assert.Equal(200, snapshot.Count);
        Assert.Equal(1, snapshot.LogFromSegment);

        for (var b = 4; b < 6; b++)
        {
            await shards.AddAsync(core, vectors, b * 50, 50, firstId: 1000 + (b * 50), callerIds: true);
        }

        Assert.Equal(10, await core.RemoveAsync(generation, ShardCoreHarness.Ids(1000, 10)));
        var queries = shards.Rows(shards.Vectors(20, seed: 3), 0, 20);
        var before = await core.SearchAsync(generation, queries, 5, new QueryOptions());
        var probe = ShardCoreHarness.Ids(990, 320); // removed, held and never-added ids
        var heldBefore = core.FindExisting(generation, probe);
        Assert.Equal(ShardCoreHarness.Ids(1010, 290), heldBefore);
        await core.CloseAsync();

        // the snapshot stands for the log before it: without those segments, snapshot + later log is the same index
        await shards.DeleteLogCoveredByAsync(snapshot);
        var restored = await shards.OpenAsync(snapshot);
        Assert.Equal(290, restored.Count);
        var after = await restored.SearchAsync(generation, queries, 5, new QueryOptions());
        Assert.Equal(before.Labels.ToArray(), after.Labels.ToArray());
        Assert.Equal(before.Distances.ToArray(), after.Distances.ToArray());
        Assert.Equal(heldBefore, restored.FindExisting(generation, probe));

        // a held caller id is refused, a removed one can come back
        await Assert.ThrowsAsync<ArgumentException>(() => shards.AddAsync(restored, vectors, 0, 1, firstId: 1010, callerIds: true));
        await shards.AddAsync(restored, vectors, 0, 1, firstId: 1000, callerIds: true);
        Assert.Equal(291, restored.Count);
    }

    [Fact]
    public async Task The_newest_committed_snapshot_is_found_through_the_manifest()
    {
        await using var shards = new ShardCoreHarness();
        var vectors = shards.Vectors(60, seed: 5);
        var core = await shards.OpenAsync();
        await shards.AddAsync(core, vectors, 0, 40);
        var snapshot = await shards.SnapshotAsync(core);
        await shards.AddAsync(core, vectors, 40, 20);
        await core.CloseAsync();

        // the index commits a snapshot by writing its manifest last
        var manifest = new IndexManifest(1, null, shards.Generation, shards.Location.Spec, 60, IdMode.Auto, DateTimeOffset.UtcNow, [snapshot]);
        await shards.Store.WriteAsync(StorageLayout.CurrentManifest(shards.Location.GenerationPrefix), manifest.ToJson());
        await shards.DeleteLogCoveredByAsync(snapshot);

        await shards.AssertHoldsExactlyAsync(await shards.OpenNewestAsync(), vectors, 0, 60);
    }

    [Fact]
    public async Task A_batch_sent_twice_under_one_batch_id_is_stored_once()
    {
        await using var shards = new ShardCoreHarness();
        var vectors = shards.Vectors(50, seed: 6);
        var batchId = Guid.NewGuid();
        var core = await shards.OpenAsync();

        // at once (the second joins the first on its way), then later; a retry's own ids are not used: its first receipt is
        var results = await Task.WhenAll(
            shards.AddAsync(core, vectors, 0, 50, batchId),
            shards.AddAsync(core, vectors, 0, 50, batchId, firstId: 500));
        Assert.Equal(results[0].Receipt, results[1].Receipt);
        Assert.Equal([false, true], results.Select(r => r.Retried).Order());
        var receipt = results[0].Receipt;
        Assert.Equal(new BatchReceipt(batchId, 0, 50), receipt);
        Assert.Equal(new ShardAddResult(receipt, Retried: true), await shards.AddAsync(core, vectors, 0, 50, batchId, firstId: 900));
        Assert.Equal(50, core.Count);
        await core.CloseAsync();

        // also after a restart, from the log
        var replayed = await shards.OpenAsync();
        Assert.Equal(50, replayed.Count);
        Assert.Equal(new ShardAddResult(receipt, Retried: true), await shards.AddAsync(replayed, vectors, 0, 50, batchId, firstId: 900));
        Assert.Equal(50, replayed.Count);

        // and from a snapshot alone (the log it covers gone)
        var snapshot = await shards.SnapshotAsync(replayed);
        await replayed.CloseAsync();
        await shards.DeleteLogCoveredByAsync(snapshot);
        var restored = await shards.OpenAsync(snapshot);
        Assert.Equal(new ShardAddResult(receipt, Retried: true), await shards.AddAsync(restored, vectors, 0, 50, batchId, firstId: 900));
        Assert.Equal(50, restored.Count);
    }

    [Fact]
    public async Task The_idempotency_window_holds_the_newest_batches_and_is_at_least_one()
    {
        await using var shards = new ShardCoreHarness(options: new ShardCoreOptions { RememberedBatches = 2 });
        var vectors = shards.Vectors(40, seed: 10);
        Guid[] batchIds = [Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid()];
        var core = await shards.OpenAsync();
        for (var b = 0; b < batchIds.Length; b++)
        {
            await shards.AddAsync(core, vectors, b * 10, 10, batchIds[b]);
        }

        // the two newest are recognised; the oldest is forgotten, so it is stored again
        Assert.True((await shards.AddAsync(core, vectors, 20, 10, batchIds[2])).Retried);
        Assert.True((await shards.AddAsync(core, vectors, 10, 10, batchIds[1])).Retried);
        Assert.False((await shards.AddAsync(core, vectors, 0, 10, batchIds[0], firstId: 30)).Retried);
        Assert.Equal(40, core.Count);

        var refused = Assert.Throws<ArgumentOutOfRangeException>(() => new ShardCoreOptions { RememberedBatches = 0 });
        Assert.Equal(nameof(ShardCoreOptions.RememberedBatches), refused.ParamName);
    }

    [Fact]
    public async Task A_change_during_a_snapshot_view_is_refused_by_the_index_and_waits_in_the_core()
    {
        HeldSnapshotStore? held = null;
        await using var shards = new ShardCoreHarness(wrapStore: inner => held = new HeldSnapshotStore(inner));
        var vectors = shards.Vectors(150, seed: 7);
        var core = await shards.OpenAsync();
        await shards.AddAsync(core, vectors, 0, 100);

        var snapshotting = shards.SnapshotAsync(core);
        await held!.Writing;

        // the snapshot is written from faiss's memory where it lies: while its view is open, the index refuses changes
        var index = core.IndexOf(shards.Generation);
        var refused = Assert.Throws<InvalidOperationException>(() => index.AddWithIds(shards.Rows(vectors, 100, 1).Values, [100]));
        Assert.Contains("serialized view", refused.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => index.Remove([0]));

        // so the core holds its own changes back until the snapshot is written, then applies them after it
        var add = shards.AddAsync(core, vectors, 100, 50);
        var remove = core.RemoveAsync(shards.Generation, [0]);
        Assert.False(add.IsCompleted);
        Assert.False(remove.IsCompleted);
        held.Release();
        var snapshot = await snapshotting;
        Assert.Equal(100, snapshot.Count);
        Assert.False((await add).Retried);
        Assert.Equal(1, await remove);
        Assert.Equal(149, core.Count);

        // the changes are in the log after the snapshot: snapshot + log holds them
        await core.CloseAsync();
        await shards.AssertHoldsExactlyAsync(await shards.OpenAsync(snapshot), vectors, 1, 149);
    }

    [Fact]
    public async Task The_version_changes_with_every_change_and_every_load()
    {
        await using var shards = new ShardCoreHarness();
        var vectors = shards.Vectors(20, seed: 8);
        var core = await shards.OpenAsync();
        var versions = new List<long> { core.Version };
        var batchId = Guid.NewGuid();
        await shards.AddAsync(core, vectors, 0, 10, batchId);
        versions.Add(core.Version);

        // a retry stores nothing, and a search and a snapshot change nothing
        await shards.AddAsync(core, vectors, 0, 10, batchId);
        await shards.NearestAsync(core, shards.Rows(vectors, 0, 10));
        var snapshot = await shards.SnapshotAsync(core);
        Assert.Equal(versions[^1], core.Version);

        await core.RemoveAsync(shards.Generation, [3]);
        versions.Add(core.Version);
        await shards.AddAsync(core, vectors, 10, 10);
        versions.Add(core.Version);
        await core.RestoreSnapshotAsync(shards.Location, snapshot);
        versions.Add(core.Version);
        await core.LoadAsync(shards.Location, snapshot);
        versions.Add(core.Version);
        await core.DropAsync();
        versions.Add(core.Version);

        Assert.Equal(versions.Count, versions.Distinct().Count());
    }

    [Fact]
    public async Task A_call_for_another_generation_or_after_a_drop_is_refused()
    {
        await using var shards = new ShardCoreHarness();
        var vectors = shards.Vectors(10, seed: 9);
        var core = await shards.OpenAsync();

        await Assert.ThrowsAsync<StaleGenerationException>(() => core.AddAsync(Guid.NewGuid(), Guid.NewGuid(), shards.Rows(vectors, 0, 10), ShardCoreHarness.Ids(0, 10), callerIds: false));
        Assert.Throws<StaleGenerationException>(() => core.FindExisting(Guid.NewGuid(), [1]));
        await Assert.ThrowsAsync<ArgumentException>(() => core.AddAsync(shards.Generation, Guid.NewGuid(), shards.Rows(vectors, 0, 10), ShardCoreHarness.Ids(0, 9), callerIds: false));

        await core.DropAsync();
        Assert.Null(core.Generation);
        Assert.Equal(0, core.Count);
        await Assert.ThrowsAsync<ShardLostException>(() => core.SearchAsync(shards.Generation, shards.Rows(vectors, 0, 1), 1, new QueryOptions()));
    }
}
