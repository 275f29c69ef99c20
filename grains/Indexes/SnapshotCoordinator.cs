using Microsoft.Extensions.Logging;
using OrleansVectors.GrainInterfaces;
using OrleansVectors.Grains.Durability;
using OrleansVectors.Grains.Storage;

namespace OrleansVectors.Grains.Indexes;

/// <summary>
/// The snapshots of one index generation, knowing nothing of grains: every shard writes its blob (through
/// <see cref="IShardSnapshots"/>), then the coordinator commits the manifest that lists them all. The current manifest
/// is written last, conditional on the ETag of the one it replaces: that write is the commit point, and a writer that
/// committed meanwhile (another activation of the index) makes it fail rather than be overwritten. After a commit it
/// deletes the log segments the manifest covers and keeps the newest <c>retainSnapshots</c> versions with the shard
/// blobs they name (SnapshotCoordinator.Housekeeping.cs). Restores and saves are the same commit with other blobs.
/// </summary>
/// <remarks>
/// <para>Snapshots, restores and saves run one at a time: the host orders them (an overlapping call fails with
/// <see cref="InvalidOperationException"/>). Each waits for the last commit's housekeeping first; listings wait for it
/// too, and <see cref="ChangedSinceSnapshot"/> may be read and set alongside.</para>
/// <para>Its awaits keep the caller's context, so the shard calls and <c>ids</c> run where the operation was asked
/// for (in a grain, on its turn).</para>
/// </remarks>
/// <param name="map">The index's name, spec and generation.</param>
/// <param name="store">Where manifests, shard snapshots and logs live.</param>
/// <param name="shards">The index's shards.</param>
/// <param name="ids">The id allocator's progress, which every manifest records (so a loaded copy goes on numbering after it).</param>
/// <param name="retainSnapshots">Committed versions kept (at least 1); older ones and the blobs only they name are deleted.</param>
/// <param name="logger">Where commits, restores, saves and failed housekeeping are reported.</param>
internal sealed partial class SnapshotCoordinator(
    ShardMap map, IDurableStore store, IShardSnapshots shards, Func<IdProgress> ids, int retainSnapshots, ILogger logger)
{
    private readonly string _prefix = StorageLayout.Generation(map.Name, map.Generation);
    private readonly int _retain = retainSnapshots >= 1
        ? retainSnapshots
        : throw new ArgumentOutOfRangeException(nameof(retainSnapshots), retainSnapshots, "At least one snapshot version is retained.");

    private (bool Read, string? ETag, long Version) _committed;
    private volatile bool _changed;
    private int _running;

    /// <summary>
    /// The deletes after the last commit, which run after the commit is answered; never faults. Operations and
    /// listings wait for it, and so must whoever deletes the generation's objects, so nothing races its deletes.
    /// </summary>
    private Task _housekeeping = Task.CompletedTask;

    /// <summary>The index's name.</summary>
    public string Index => map.Name;

    /// <summary>Completes when the last commit's housekeeping has ended (it never faults).</summary>
    public Task Housekept => _housekeeping;

    /// <summary>Whether the index may have changed since the last snapshot began (set by <see cref="NoteChanged"/>).</summary>
    public bool ChangedSinceSnapshot => _changed;

    /// <summary>Records that the index changed, so that a snapshot "only if changed" is taken.</summary>
    public void NoteChanged() => _changed = true;

    /// <summary>Snapshots every shard and commits the next version.</summary>
    /// <exception cref="InvalidOperationException">Another activation committed meanwhile (nothing was committed), or a shard answer is missing.</exception>
    /// <exception cref="ShardUnavailableException">A shard failed or did not answer in time; nothing was committed.</exception>
    public Task<IndexManifest> SnapshotAsync() => RunAsync(SnapshotCoreAsync);

    /// <summary>Puts every shard back to a retained version and commits that as a new version.</summary>
    /// <exception cref="ArgumentException">The generation retains no such version.</exception>
    public Task<IndexManifest> RestoreVersionAsync(long version) => RunAsync(async () =>
    {
        var manifest = (await IndexManifest.ReadAsync(store, StorageLayout.Manifest(_prefix, version)))?.Manifest
            ?? (await IndexManifest.ReadCurrentAsync(store, _prefix) is { } current && current.Version == version ? current : null)
            ?? throw new ArgumentException($"Index '{Index}' retains no snapshot version {version}; list them with ListSnapshotsAsync ('ovx snapshots').", nameof(version));
        var restored = await RestoreCoreAsync(manifest);
        LogRestoredVersion(Index, version, restored.Version);
        return restored;
    });

    /// <summary>
    /// Puts every shard back to the shard blobs of <paramref name="source"/> (a saved snapshot, say) and commits that as
    /// a new version. When a shard fails, every shard starts again from storage and nothing is committed.
    /// </summary>
    /// <exception cref="InvalidOperationException">The source has another number of shards.</exception>
    public Task<IndexManifest> RestoreAsync(IndexManifest source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return RunAsync(() => RestoreCoreAsync(source));
    }

    /// <summary>
    /// Snapshots every shard, commits that, and copies it under <paramref name="name"/> among the index's saved
    /// snapshots (which outlive a drop); a copy with that name is replaced. The host checks the name.
    /// </summary>
    public Task<IndexManifest> SaveAsync(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return RunAsync(async () =>
        {
            var folder = StorageLayout.Saved(Index, name);
            var snapshot = await SnapshotCoreAsync();
            var copies = new List<ShardSnapshotInfo>();
            foreach (var shard in snapshot.Shards)
            {
                var copy = $"{folder}{shard.Shard:D4}.snap";
                var content = await store.ReadAsync(shard.Blob) ?? throw new InvalidDataException($"Snapshot '{shard.Blob}' disappeared before it was saved.");
                await store.WriteAsync(copy, content.Content);
                copies.Add(shard with { Blob = copy });
            }

            var saved = snapshot with { Name = name, Shards = copies };
            await store.WriteAsync(StorageLayout.SavedManifest(Index, name), saved.ToJson());
            LogSaved(Index, name, saved.Count);
            return saved;
        });
    }

    /// <summary>The snapshot of <paramref name="index"/> saved as <paramref name="name"/>, or null when there is none.</summary>
    public static async Task<IndexManifest?> ReadSavedAsync(IDurableStore store, string index, string name)
    {
        ArgumentNullException.ThrowIfNull(store);
        return (await IndexManifest.ReadAsync(store, StorageLayout.SavedManifest(index, name)))?.Manifest;
    }

    /// <summary>The retained versions of the generation, then the index's saved snapshots.</summary>
    public async Task<IReadOnlyList<SnapshotInfo>> ListAsync()
    {
        await _housekeeping;
        var infos = new List<SnapshotInfo>();
        foreach (var path in await store.ListAsync(StorageLayout.Manifests(_prefix)))
        {
            if (await IndexManifest.ReadAsync(store, path) is { } retained)
            {
                infos.Add(retained.Manifest.ToInfo());
            }
        }

        // the commit writes the current manifest before its copy by version: a crash between leaves only the first
        if (await IndexManifest.ReadCurrentAsync(store, _prefix) is { } current && !infos.Any(i => i.Version == current.Version))
        {
            infos.Add(current.ToInfo());
        }

        foreach (var path in (await store.ListAsync(StorageLayout.AllSaved(Index))).Where(p => p.EndsWith("/" + StorageLayout.SavedManifestName, StringComparison.Ordinal)))
        {
            if (await IndexManifest.ReadAsync(store, path) is { } saved)
            {
                infos.Add(saved.Manifest.ToInfo());
            }
        }

        return infos;
    }

    private async Task<IndexManifest> SnapshotCoreAsync()
    {
        var version = await NextVersionAsync();
        var attempt = Guid.NewGuid();
        _changed = false;
        try
        {
            var written = await shards.SnapshotAsync(shard => StorageLayout.Snapshot(_prefix, version, shard, attempt));
            var manifest = await CommitAsync(version, written);
            LogSnapshot(Index, version, manifest.Count, manifest.Bytes);
            return manifest;
        }
        catch
        {
            _changed = true;
            throw;
        }
    }

    private async Task<IndexManifest> RestoreCoreAsync(IndexManifest source)
    {
        if (source.Shards.Count != map.Spec.ShardCount)
        {
            throw new InvalidOperationException($"The snapshot has {source.Shards.Count} shards; index '{Index}' has {map.Spec.ShardCount}.");
        }

        var blobs = RequireEveryShard(source.Shards, "the snapshot names");
        var version = await NextVersionAsync();
        try
        {
            var restored = await shards.RestoreAsync(blobs);
            return await CommitAsync(version, restored);
        }
        catch
        {
            // shards that did restore hold what no committed manifest says: they start again from storage
            await shards.ReloadAsync();
            throw;
        }
    }

    /// <summary>
    /// Writes the current manifest conditional on the ETag of the one it replaces (the commit), then its copy by
    /// version; then starts the housekeeping.
    /// </summary>
    private async Task<IndexManifest> CommitAsync(long version, IReadOnlyList<ShardSnapshotInfo> answers)
    {
        var shardInfos = RequireEveryShard(answers, "the answers came from");
        var progress = ids();
        var manifest = new IndexManifest(version, null, map.Generation, map.Spec, progress.NextId, progress.Mode, DateTimeOffset.UtcNow, shardInfos);
        var json = manifest.ToJson();
        try
        {
            var etag = await store.WriteAsync(StorageLayout.CurrentManifest(_prefix), json, StoreCondition.IfETag(_committed.ETag));
            _committed = (true, etag, version);
        }
        catch (StoreConflictException)
        {
            _committed = default; // read it again next time
            throw new InvalidOperationException($"Index '{Index}': another activation committed a snapshot meanwhile; this one was not committed. Try again.");
        }

        // committed: the version is now taken for good, so its copy is written once, after the commit
        await store.WriteAsync(StorageLayout.Manifest(_prefix, version), json);

        _housekeeping = HousekeepAsync(manifest);
        return manifest;
    }

    /// <summary>Snapshots of the shards in shard order, when there is exactly one for each shard.</summary>
    private List<ShardSnapshotInfo> RequireEveryShard(IReadOnlyList<ShardSnapshotInfo> snapshots, string whose)
    {
        var ordered = snapshots.OrderBy(s => s.Shard).ToList();
        if (ordered.Count != map.Spec.ShardCount || ordered.Where((s, i) => s.Shard != i).Any())
        {
            throw new InvalidOperationException(
                $"Index '{Index}' has {map.Spec.ShardCount} shards, but {whose} shards [{string.Join(", ", ordered.Select(s => s.Shard))}]; nothing was committed.");
        }

        return ordered;
    }

    /// <summary>The version after the committed one (read from the current manifest, the truth, on first use).</summary>
    private async Task<long> NextVersionAsync()
    {
        if (!_committed.Read)
        {
            var current = await IndexManifest.ReadAsync(store, StorageLayout.CurrentManifest(_prefix));
            _committed = (true, current?.ETag, current?.Manifest.Version ?? 0);
        }

        return _committed.Version + 1;
    }

    /// <summary>Runs one operation, after the last commit's housekeeping; refuses one that overlaps another.</summary>
    private async Task<T> RunAsync<T>(Func<Task<T>> operation)
    {
        if (Interlocked.Exchange(ref _running, 1) == 1)
        {
            throw new InvalidOperationException($"Index '{Index}': a snapshot, restore or save is running already; they run one at a time.");
        }

        try
        {
            await _housekeeping;
            return await operation();
        }
        finally
        {
            Volatile.Write(ref _running, 0);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Index {Index}: snapshot version {Version} committed ({Count} vectors, {Bytes} bytes)")]
    private partial void LogSnapshot(string index, long version, long count, long bytes);

    [LoggerMessage(Level = LogLevel.Information, Message = "Index {Index}: version {Version} restored, committed as version {NewVersion}")]
    private partial void LogRestoredVersion(string index, long version, long newVersion);

    [LoggerMessage(Level = LogLevel.Information, Message = "Index {Index}: saved as '{Name}' ({Count} vectors)")]
    private partial void LogSaved(string index, string name, long count);
}
