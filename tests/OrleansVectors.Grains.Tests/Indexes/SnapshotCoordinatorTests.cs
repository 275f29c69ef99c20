using Microsoft.Extensions.Logging.Abstractions;
using OrleansVectors.Grains.Indexes;

namespace OrleansVectors.Grains.Tests.Indexes;

/// <summary>
/// Snapshot coordination without a cluster, over a <see cref="FileDurableStore"/> in a temporary folder and
/// <see cref="FakeShards"/>: the commit, failures that commit nothing, retention, and a concurrent writer.
/// </summary>
public sealed class SnapshotCoordinatorTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"snapshots-{Guid.NewGuid():N}");
    private readonly FileDurableStore _store;
    private readonly ShardMap _map = new("snap", new IndexSpec { Dimension = 4, ShardCount = 3 }, Guid.NewGuid());
    private readonly FakeShards _shards;

    public SnapshotCoordinatorTests()
    {
        _store = new FileDurableStore(_root);
        _shards = new FakeShards(_store, _map);
    }

    private string Prefix => StorageLayout.Generation(_map.Name, _map.Generation);

    [Fact]
    public async Task A_snapshot_commits_a_manifest_that_lists_every_shard()
    {
        var snapshots = NewCoordinator(ids: () => new IdProgress(42, IdMode.Auto));
        snapshots.NoteChanged();
        var first = await snapshots.SnapshotAsync();
        Assert.False(snapshots.ChangedSinceSnapshot);

        var current = (await IndexManifest.ReadCurrentAsync(_store, Prefix))!;
        Assert.Equal(1, current.Version);
        Assert.Equal(first.Shards, current.Shards);
        Assert.Equal([0, 1, 2], current.Shards.Select(s => s.Shard));
        Assert.Equal((42L, IdMode.Auto, _map.Spec, _map.Generation), (current.NextId, current.Mode, current.Spec, current.Generation));
        Assert.Equal(60, current.Count);
        foreach (var shard in current.Shards)
        {
            Assert.NotNull(await _store.ReadAsync(shard.Blob));
        }

        // the version's own copy, and the next version after it
        Assert.Equal(1, (await IndexManifest.ReadAsync(_store, StorageLayout.Manifest(Prefix, 1)))!.Value.Manifest.Version);
        Assert.Equal(2, (await snapshots.SnapshotAsync()).Version);
        await snapshots.Housekept;
        Assert.Equal([1L, 2L], (await snapshots.ListAsync()).Select(s => s.Version));

        // a new coordinator (a new activation) numbers on from the committed manifest
        Assert.Equal(3, (await NewCoordinator().SnapshotAsync()).Version);
    }

    [Fact]
    public async Task A_failed_shard_snapshot_commits_nothing_and_the_previous_manifest_stays_current()
    {
        var snapshots = NewCoordinator();
        await snapshots.SnapshotAsync();
        await snapshots.Housekept;
        var before = (await _store.ReadAsync(StorageLayout.CurrentManifest(Prefix)))!;

        _shards.FailingShard = 2;
        var error = await Assert.ThrowsAsync<ShardUnavailableException>(snapshots.SnapshotAsync);
        Assert.Equal(2, error.Shard);
        var after = (await _store.ReadAsync(StorageLayout.CurrentManifest(Prefix)))!;
        Assert.Equal(before.ETag, after.ETag);
        Assert.Equal(before.Content.ToArray(), after.Content.ToArray());
        Assert.Equal([1L], (await snapshots.ListAsync()).Select(s => s.Version));
        Assert.True(snapshots.ChangedSinceSnapshot); // the automatic snapshot comes again

        // the next snapshot takes the version the failed one did not commit, and its blobs outlive the failed attempt's
        _shards.FailingShard = null;
        var next = await snapshots.SnapshotAsync();
        Assert.Equal(2, next.Version);
        await snapshots.Housekept;
        var v1 = (await IndexManifest.ReadAsync(_store, StorageLayout.Manifest(Prefix, 1)))!.Value.Manifest;
        Assert.Equal(
            v1.Shards.Concat(next.Shards).Select(s => s.Blob).Order(StringComparer.Ordinal),
            await _store.ListAsync(StorageLayout.Snapshots(Prefix))); // the failed attempt's two blobs are gone
    }

    [Fact]
    public async Task Answers_that_miss_a_shard_commit_nothing()
    {
        var snapshots = NewCoordinator();
        _shards.DropLastAnswer = true;
        var error = await Assert.ThrowsAsync<InvalidOperationException>(snapshots.SnapshotAsync);
        Assert.Contains("has 3 shards", error.Message, StringComparison.Ordinal);
        Assert.Null(await IndexManifest.ReadCurrentAsync(_store, Prefix));
    }

    [Fact]
    public async Task Retention_keeps_the_newest_versions_with_their_blobs_and_deletes_the_rest_and_the_logs_they_cover()
    {
        var snapshots = NewCoordinator(retain: 2);
        var committed = new List<IndexManifest>();
        for (var i = 0; i < 4; i++)
        {
            committed.Add(await snapshots.SnapshotAsync());
            await snapshots.Housekept;
        }

        Assert.Equal([StorageLayout.Manifest(Prefix, 3), StorageLayout.Manifest(Prefix, 4)], await _store.ListAsync(StorageLayout.Manifests(Prefix)));
        Assert.Equal(
            committed[2..].SelectMany(m => m.Shards).Select(s => s.Blob).Order(StringComparer.Ordinal),
            await _store.ListAsync(StorageLayout.Snapshots(Prefix)));
        Assert.Equal([3L, 4L], (await snapshots.ListAsync()).Select(s => s.Version));

        // each shard's log keeps only the segment the newest snapshot does not cover
        for (var shard = 0; shard < _map.Spec.ShardCount; shard++)
        {
            var segment = Assert.Single(await _shards.LogSegmentsAsync(shard));
            Assert.Equal(committed[^1].Shards[shard].LogFromSegment, StorageLayout.SegmentOf(segment));
        }
    }

    [Fact]
    public async Task A_manifest_whose_etag_changed_underneath_is_refused_and_the_other_writer_stays_committed()
    {
        var mine = NewCoordinator();
        Assert.Equal(1, (await mine.SnapshotAsync()).Version);

        // another activation of the same index commits meanwhile
        var theirs = await NewCoordinator().SnapshotAsync();
        Assert.Equal(2, theirs.Version);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(mine.SnapshotAsync);
        Assert.Contains("another activation committed a snapshot meanwhile", error.Message, StringComparison.Ordinal);
        Assert.Equal(theirs.Shards, (await IndexManifest.ReadCurrentAsync(_store, Prefix))!.Shards);

        // the refused writer reads the truth again and commits after it
        Assert.Equal(3, (await mine.SnapshotAsync()).Version);
    }

    [Fact]
    public async Task A_restore_commits_the_source_blobs_as_a_new_version_and_a_failed_one_reloads_every_shard()
    {
        var snapshots = NewCoordinator();
        var v1 = await snapshots.SnapshotAsync();
        await snapshots.SnapshotAsync();

        var restored = await snapshots.RestoreVersionAsync(1);
        Assert.Equal(3, restored.Version);
        Assert.Equal(v1.Shards.Select(s => s.Blob), Assert.Single(_shards.Restored).Select(s => s.Blob));
        Assert.Equal(v1.Shards.Select(s => s.Blob), restored.Shards.Select(s => s.Blob));
        Assert.Equal(3, (await IndexManifest.ReadCurrentAsync(_store, Prefix))!.Version);

        var unknown = await Assert.ThrowsAsync<ArgumentException>(() => snapshots.RestoreVersionAsync(99));
        Assert.Equal("version", unknown.ParamName);

        _shards.FailingShard = 1;
        await Assert.ThrowsAsync<ShardUnavailableException>(() => snapshots.RestoreVersionAsync(2));
        Assert.Equal(1, _shards.Reloads);
        Assert.Equal(3, (await IndexManifest.ReadCurrentAsync(_store, Prefix))!.Version);
    }

    [Fact]
    public async Task A_saved_snapshot_is_a_copy_under_its_name_that_a_restore_takes()
    {
        var snapshots = NewCoordinator(ids: () => new IdProgress(7, IdMode.Caller));
        var saved = await snapshots.SaveAsync("keep");
        Assert.Equal("keep", saved.Name);
        Assert.All(saved.Shards, s => Assert.StartsWith(StorageLayout.Saved(_map.Name, "keep"), s.Blob, StringComparison.Ordinal));

        var read = await SnapshotCoordinator.ReadSavedAsync(_store, _map.Name, "keep");
        Assert.Equal(saved.Shards, read!.Shards);
        Assert.Equal((7L, IdMode.Caller), (read.NextId, read.Mode));
        Assert.Null(await SnapshotCoordinator.ReadSavedAsync(_store, _map.Name, "other"));
        Assert.Contains(await snapshots.ListAsync(), s => s.Name == "keep");

        var loaded = await snapshots.RestoreAsync(read);
        Assert.Equal(2, loaded.Version);
        Assert.Equal(saved.Shards.Select(s => s.Blob), loaded.Shards.Select(s => s.Blob));
    }

    [Fact]
    public async Task Operations_run_one_at_a_time()
    {
        var snapshots = NewCoordinator();
        var held = _shards.HoldNextSnapshot();
        var first = snapshots.SnapshotAsync();
        await held;

        var overlapping = await Assert.ThrowsAsync<InvalidOperationException>(() => snapshots.RestoreVersionAsync(1));
        Assert.Contains("one at a time", overlapping.Message, StringComparison.Ordinal);
        _shards.Release();
        Assert.Equal(1, (await first).Version);
        Assert.Equal(2, (await snapshots.SnapshotAsync()).Version);
    }

    [Fact]
    public void A_retention_below_one_is_refused_naming_the_argument() =>
        Assert.Equal(
            "retainSnapshots",
            Assert.Throws<ArgumentOutOfRangeException>(() => new SnapshotCoordinator(_map, _store, _shards, () => default, 0, NullLogger.Instance)).ParamName);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private SnapshotCoordinator NewCoordinator(int retain = 3, Func<IdProgress>? ids = null) =>
        new(_map, _store, _shards, ids ?? (() => new IdProgress(0, IdMode.Unset)), retain, NullLogger.Instance);
}
