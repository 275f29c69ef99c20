using Microsoft.Extensions.Logging;
using OrleansVectors.GrainInterfaces;
using OrleansVectors.Grains.Durability;
using OrleansVectors.Grains.Storage;
using OrleansVectors.Grains.Topology;

namespace OrleansVectors.Grains;

/// <summary>
/// Snapshots: every shard writes its blob, then the index writes the manifest, conditional on the ETag of the one
/// it replaces (the commit), truncates the logs the new manifest covers, and applies retention. Restore, save and
/// load are the same commit with other shard blobs.
/// </summary>
public sealed partial class IndexGrain
{
    /// <summary>
    /// Shard snapshots and restores: every shard must answer, each within two minutes (a 2 GiB shard uploads for a
    /// while; a shard on a silo that died must not hold the index's snapshots up for longer).
    /// </summary>
    private static readonly FanOutPolicy SnapshotPolicy = new(64, TimeSpan.FromMinutes(2), AllowPartial: false);

    /// <inheritdoc/>
    public Task<SnapshotInfo> SnapshotAsync() => ExclusiveAsync(async () => (await SnapshotCoreAsync()).ToInfo());

    /// <inheritdoc/>
    public async Task<IReadOnlyList<SnapshotInfo>> ListSnapshotsAsync()
    {
        var topology = RequireTopology();
        await _housekeeping;
        var prefix = StorageLayout.Generation(Name, topology.Generation);
        var infos = new List<SnapshotInfo>();
        foreach (var path in await store.ListAsync(StorageLayout.Manifests(prefix)))
        {
            if (await IndexManifest.ReadAsync(store, path) is { } retained)
            {
                infos.Add(retained.Manifest.ToInfo());
            }
        }

        // the commit writes the current manifest before its copy by version: a crash between leaves only the first
        if (await IndexManifest.ReadCurrentAsync(store, prefix) is { } current && !infos.Any(i => i.Version == current.Version))
        {
            infos.Add(current.ToInfo());
        }

        foreach (var path in (await store.ListAsync(StorageLayout.AllSaved(Name))).Where(p => p.EndsWith("/manifest.json", StringComparison.Ordinal)))
        {
            if (await store.ReadAsync(path) is { } saved)
            {
                infos.Add(IndexManifest.Parse(saved.Content, path).ToInfo());
            }
        }

        return infos;
    }

    /// <inheritdoc/>
    public Task<SnapshotInfo> RestoreAsync(long version) => ExclusiveAsync(async () =>
    {
        var topology = RequireTopology();
        var prefix = StorageLayout.Generation(Name, topology.Generation);
        var manifest = (await IndexManifest.ReadAsync(store, StorageLayout.Manifest(prefix, version)))?.Manifest
            ?? (await IndexManifest.ReadCurrentAsync(store, prefix) is { } current && current.Version == version ? current : null)
            ?? throw new ArgumentException($"Index '{Name}' retains no snapshot version {version}; list them with ListSnapshotsAsync ('ovx snapshots').", nameof(version));
        var restored = await RestoreCoreAsync(topology, manifest);
        LogRestoredVersion(Name, version, restored.Version);
        return restored.ToInfo();
    });

    /// <inheritdoc/>
    public Task<SnapshotInfo> SaveAsync(string name)
    {
        var folder = StorageLayout.Saved(Name, ResourceNames.RequireSnapshotName(name));
        return ExclusiveAsync(async () =>
        {
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
            await store.WriteAsync(folder + "manifest.json", saved.ToJson());
            LogSaved(Name, name, saved.Count);
            return saved.ToInfo();
        });
    }

    /// <inheritdoc/>
    public Task<SnapshotInfo> LoadAsync(string name)
    {
        var path = StorageLayout.Saved(Name, ResourceNames.RequireSnapshotName(name)) + "manifest.json";
        return ExclusiveAsync(async () =>
        {
            var saved = (await IndexManifest.ReadAsync(store, path))?.Manifest
                ?? throw new ArgumentException($"Index '{Name}' has no snapshot saved as '{name}'.", nameof(name));
            if (state.State.Spec is null)
            {
                await CreateCoreAsync(saved.Spec);
            }
            else if (state.State.Spec != saved.Spec)
            {
                throw new InvalidOperationException(
                    $"Index '{Name}' exists with a spec other than the one saved as '{name}'; drop it first, or load into another index.");
            }

            var loaded = await RestoreCoreAsync(RequireTopology(), saved);
            if (saved.Mode != IdMode.Unset && state.State.Mode == IdMode.Unset || saved.NextId > _nextId)
            {
                _nextId = Math.Max(_nextId, saved.NextId);
                await PersistAsync(s =>
                {
                    s.Mode = s.Mode == IdMode.Unset ? saved.Mode : s.Mode;
                    s.IdBlockEnd = Math.Max(s.IdBlockEnd, _nextId);
                });
            }

            LogLoaded(Name, name, loaded.Count);
            return loaded.ToInfo();
        });
    }

    /// <summary>An automatic snapshot: skipped while another exclusive operation runs (it will have the same effect or come again).</summary>
    private async Task SnapshotUnlessBusyAsync(bool onlyIfChanged)
    {
        if (state.State.Spec is null || (onlyIfChanged && !_changedSinceSnapshot) || _exclusive.CurrentCount == 0)
        {
            return;
        }

        try
        {
            await SnapshotAsync();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogAutomaticSnapshotFailed(Name, e.Message);
        }
    }

    private async Task<IndexManifest> SnapshotCoreAsync()
    {
        var topology = RequireTopology();
        var prefix = StorageLayout.Generation(Name, topology.Generation);
        var version = await NextVersionAsync(prefix);
        var attempt = Guid.NewGuid();
        _changedSinceSnapshot = false;
        try
        {
            var shards = await topology.FanOutAsync(
                GrainFactory, (shard, number, _) => shard.SnapshotAsync(topology.Generation, StorageLayout.Snapshot(prefix, version, number, attempt)), SnapshotPolicy);
            var manifest = await CommitAsync(topology, prefix, version, [.. shards.Values]);
            LogSnapshot(Name, version, manifest.Count, manifest.Bytes);
            return manifest;
        }
        catch
        {
            _changedSinceSnapshot = true;
            throw;
        }
    }

    /// <summary>Puts every shard back to the shard blobs of <paramref name="source"/> and commits that as a new version.</summary>
    private async Task<IndexManifest> RestoreCoreAsync(ShardTopology topology, IndexManifest source)
    {
        if (source.Shards.Count != topology.ShardCount)
        {
            throw new InvalidOperationException($"The snapshot has {source.Shards.Count} shards; index '{Name}' has {topology.ShardCount}.");
        }

        var prefix = StorageLayout.Generation(Name, topology.Generation);
        var version = await NextVersionAsync(prefix);
        var bySource = source.Shards.ToDictionary(s => s.Shard);
        try
        {
            var shards = await topology.FanOutAsync(
                GrainFactory, (shard, number, _) => shard.RestoreSnapshotAsync(topology.Generation, bySource[number]), SnapshotPolicy);
            return await CommitAsync(topology, prefix, version, [.. shards.Values]);
        }
        catch
        {
            // shards that did restore hold what no committed manifest says: they start again from storage
            await topology.FanOutAsync(GrainFactory, async (shard, _, _) =>
            {
                await shard.ReloadAsync();
                return true;
            }, new FanOutPolicy(64, TimeSpan.FromSeconds(30), AllowPartial: true));
            throw;
        }
    }

    /// <summary>
    /// Writes the version's manifest, then the current manifest conditional on the ETag of the one it replaces (the
    /// commit); then truncates the logs it covers and applies retention.
    /// </summary>
    private async Task<IndexManifest> CommitAsync(ShardTopology topology, string prefix, long version, List<ShardSnapshotInfo> shards)
    {
        var manifest = new IndexManifest(version, null, topology.Generation, topology.Spec, _nextId, state.State.Mode, DateTimeOffset.UtcNow, shards);
        var json = manifest.ToJson();
        try
        {
            var etag = await store.WriteAsync(StorageLayout.CurrentManifest(prefix), json, StoreCondition.IfETag(_manifest.ETag));
            _manifest = (true, etag, version);
        }
        catch (StoreConflictException)
        {
            _manifest = default; // read it again next time
            throw new InvalidOperationException($"Index '{Name}': another activation committed a snapshot meanwhile; this one was not committed. Try again.");
        }

        // committed: the version is now taken for good, so its copy is written once, after the commit
        await store.WriteAsync(StorageLayout.Manifest(prefix, version), json);

        _housekeeping = HousekeepAsync(prefix, shards, manifest);
        return manifest;
    }

    /// <summary>Deletes the logs a committed manifest covers and what retention no longer keeps; a failure is logged (the next commit tries again).</summary>
    private async Task HousekeepAsync(string prefix, List<ShardSnapshotInfo> shards, IndexManifest manifest)
    {
        await Task.Yield(); // the commit is answered first
        try
        {
            await TruncateLogsAsync(prefix, shards);
            await ApplyRetentionAsync(prefix, manifest);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogHousekeepingFailed(Name, manifest.Version, e.Message);
        }
    }

    /// <summary>The version after the committed one (read from the current manifest, the truth, on first use).</summary>
    private async Task<long> NextVersionAsync(string prefix)
    {
        if (!_manifest.Read)
        {
            var current = await IndexManifest.ReadAsync(store, StorageLayout.CurrentManifest(prefix));
            _manifest = (true, current?.ETag, current?.Manifest.Version ?? 0);
        }

        return _manifest.Version + 1;
    }

    private async Task TruncateLogsAsync(string prefix, List<ShardSnapshotInfo> shards)
    {
        foreach (var shard in shards)
        {
            foreach (var segment in await store.ListAsync(StorageLayout.Log(prefix, shard.Shard)))
            {
                if (StorageLayout.SegmentOf(segment) < shard.LogFromSegment)
                {
                    await store.DeleteAsync(segment);
                }
            }
        }
    }

    /// <summary>Keeps the newest retained manifests and every shard blob one of them names; deletes the rest.</summary>
    private async Task ApplyRetentionAsync(string prefix, IndexManifest current)
    {
        var manifests = await store.ListAsync(StorageLayout.Manifests(prefix));
        var retained = manifests.TakeLast(options.Value.RetainSnapshots).ToList();
        foreach (var old in manifests.SkipLast(options.Value.RetainSnapshots))
        {
            await store.DeleteAsync(old);
        }

        var referenced = current.Shards.Select(s => s.Blob).ToHashSet(StringComparer.Ordinal);
        foreach (var path in retained)
        {
            if (await IndexManifest.ReadAsync(store, path) is { } kept)
            {
                referenced.UnionWith(kept.Manifest.Shards.Select(s => s.Blob));
            }
        }

        foreach (var blob in await store.ListAsync(StorageLayout.Snapshots(prefix)))
        {
            if (!referenced.Contains(blob))
            {
                await store.DeleteAsync(blob);
            }
        }
    }

    /// <summary>Takes the index's exclusive lock, once the last commit's housekeeping is done.</summary>
    private async Task EnterExclusiveAsync()
    {
        await _exclusive.WaitAsync();
        await _housekeeping;
    }

    private async Task<T> ExclusiveAsync<T>(Func<Task<T>> work)
    {
        await EnterExclusiveAsync();
        try
        {
            return await work();
        }
        finally
        {
            _exclusive.Release();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Index {Index}: cleaning up after snapshot version {Version} failed (the next snapshot tries again): {Reason}")]
    private partial void LogHousekeepingFailed(string index, long version, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Index {Index}: snapshot version {Version} committed ({Count} vectors, {Bytes} bytes)")]
    private partial void LogSnapshot(string index, long version, long count, long bytes);

    [LoggerMessage(Level = LogLevel.Information, Message = "Index {Index}: version {Version} restored, committed as version {NewVersion}")]
    private partial void LogRestoredVersion(string index, long version, long newVersion);

    [LoggerMessage(Level = LogLevel.Information, Message = "Index {Index}: saved as '{Name}' ({Count} vectors)")]
    private partial void LogSaved(string index, string name, long count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Index {Index}: loaded '{Name}' ({Count} vectors)")]
    private partial void LogLoaded(string index, string name, long count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Index {Index}: automatic snapshot failed: {Reason}")]
    private partial void LogAutomaticSnapshotFailed(string index, string reason);
}
