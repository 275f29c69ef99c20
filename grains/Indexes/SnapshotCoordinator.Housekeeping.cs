using Microsoft.Extensions.Logging;
using OrleansVectors.Grains.Durability;

namespace OrleansVectors.Grains.Indexes;

/// <summary>
/// Housekeeping after a commit: the log segments the committed manifest covers go, and so do the versions retention no
/// longer keeps and every shard blob that no kept version names. A failure is logged; the next commit tries again.
/// </summary>
internal sealed partial class SnapshotCoordinator
{
    private async Task HousekeepAsync(IndexManifest manifest)
    {
        await Task.Yield(); // the commit is answered first
        try
        {
            await TruncateLogsAsync(manifest.Shards);
            await ApplyRetentionAsync(manifest);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogHousekeepingFailed(Index, manifest.Version, e.Message);
        }
    }

    private async Task TruncateLogsAsync(IReadOnlyList<ShardSnapshotInfo> committed)
    {
        foreach (var shard in committed)
        {
            foreach (var segment in await store.ListAsync(StorageLayout.Log(_prefix, shard.Shard)))
            {
                if (StorageLayout.SegmentOf(segment) < shard.LogFromSegment)
                {
                    await store.DeleteAsync(segment);
                }
            }
        }
    }

    /// <summary>Keeps the newest retained manifests and every shard blob one of them names; deletes the rest.</summary>
    private async Task ApplyRetentionAsync(IndexManifest current)
    {
        var manifests = await store.ListAsync(StorageLayout.Manifests(_prefix));
        var retained = manifests.TakeLast(_retain).ToList();
        foreach (var old in manifests.SkipLast(_retain))
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

        foreach (var blob in await store.ListAsync(StorageLayout.Snapshots(_prefix)))
        {
            if (!referenced.Contains(blob))
            {
                await store.DeleteAsync(blob);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Index {Index}: cleaning up after snapshot version {Version} failed (the next snapshot tries again): {Reason}")]
    private partial void LogHousekeepingFailed(string index, long version, string reason);
}
