using Microsoft.Extensions.Logging;
using OrleansVectors.GrainInterfaces;
using OrleansVectors.Grains.Durability;
using OrleansVectors.Inference.Faiss;

namespace OrleansVectors.Grains.Shards;

/// <summary>
/// Loading a generation: the newest committed snapshot (or a given one) and the replay of the log after it, a torn
/// last record dropped; and the restore of a chosen snapshot in place of what the shard holds.
/// </summary>
internal sealed partial class ShardCore
{
    /// <summary>
    /// Opens a generation: its newest committed snapshot of this shard (from the index's manifest), if any, and the
    /// log after it. Replaces the generation open before, without waiting for its changes in flight.
    /// </summary>
    /// <exception cref="InvalidDataException">A snapshot or a log record is corrupt; the message names the object.</exception>
    public async Task LoadAsync(ShardLocation location)
    {
        ArgumentNullException.ThrowIfNull(location);
        var manifest = await IndexManifest.ReadCurrentAsync(store, location.GenerationPrefix).ConfigureAwait(false);
        await LoadAsync(location, manifest?.Shards.FirstOrDefault(s => s.Shard == location.Shard)).ConfigureAwait(false);
    }

    /// <summary>
    /// Opens a generation from <paramref name="snapshot"/> (null: from nothing) and the log segments from the one it
    /// does not cover on. A torn last record of a segment (an append cut short, never acknowledged) is dropped; a
    /// batch logged twice (a retry of one whose first write reached the log though it failed) is applied once. New
    /// changes go to a segment after every one there is. Replaces the generation open before, without waiting for its
    /// changes in flight.
    /// </summary>
    /// <exception cref="InvalidDataException">The snapshot or a log record is corrupt; the message names the object.</exception>
    public async Task LoadAsync(ShardLocation location, ShardSnapshotInfo? snapshot)
    {
        ArgumentNullException.ThrowIfNull(location);
        var logFrom = snapshot?.LogFromSegment ?? 0;
        var restored = snapshot is null
            ? new RestoredShard(location.CreateFaissIndex(), [], new RecentBatches(options.RememberedBatches))
            : await ReadSnapshotAsync(location, snapshot.Blob, snapshot.Checksum).ConfigureAwait(false);
        long replayed = 0;
        long next;
        try
        {
            var segments = await store.ListAsync(location.LogFolder).ConfigureAwait(false);
            foreach (var path in segments.Where(p => StorageLayout.SegmentOf(p) >= logFrom))
            {
                var content = await store.ReadAsync(path).ConfigureAwait(false)
                    ?? throw new InvalidDataException($"Log segment '{path}' disappeared while the shard was restored.");
                var records = LogRecord.ReadSegment(content.Content, path, out var torn);
                if (torn)
                {
                    LogTornTail(name, path);
                }

                await RunOnFaissWorkerAsync(() =>
                {
                    foreach (var record in records)
                    {
                        Replay(restored, record);
                    }

                    return true;
                }).ConfigureAwait(false);
                replayed += records.Count;
            }

            await UseSearchEngineAsync(restored.Index).ConfigureAwait(false);
            next = await NextSegmentAsync(location.LogFolder, logFrom).ConfigureAwait(false);
        }
        catch
        {
            restored.Index.Dispose();
            throw;
        }

        await ReplaceStateAsync(new ShardState(location, restored.Index, restored.CallerIds, restored.Batches, new ShardLog(store, location.LogFolder, next)))
            .ConfigureAwait(false);
        LogRestored(name, snapshot?.Blob ?? "(no snapshot)", restored.Index.Count, replayed);
    }

    /// <summary>
    /// Replaces what the shard holds with <paramref name="snapshot"/>, once the changes in flight are applied (changes
    /// that arrive meanwhile wait, then fail with <see cref="StaleGenerationException"/>). The log from here on starts
    /// after every segment there is: what they hold is superseded. Returns the snapshot with its count and the log
    /// segment the shard now starts from.
    /// </summary>
    /// <exception cref="InvalidDataException">The snapshot is missing or corrupt; the shard keeps what it held.</exception>
    public async Task<ShardSnapshotInfo> RestoreSnapshotAsync(ShardLocation location, ShardSnapshotInfo snapshot)
    {
        ArgumentNullException.ThrowIfNull(location);
        ArgumentNullException.ThrowIfNull(snapshot);
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            await DrainAppliedAsync().ConfigureAwait(false);
            var restored = await ReadSnapshotAsync(location, snapshot.Blob, snapshot.Checksum).ConfigureAwait(false);
            long next;
            try
            {
                var current = Volatile.Read(ref _state);
                var rolled = current?.Generation == location.Generation ? await current.Log.RollAsync().ConfigureAwait(false) : 0;
                next = await NextSegmentAsync(location.LogFolder, rolled).ConfigureAwait(false);
                await UseSearchEngineAsync(restored.Index).ConfigureAwait(false);
            }
            catch
            {
                restored.Index.Dispose();
                throw;
            }

            await ReplaceStateAsync(new ShardState(location, restored.Index, restored.CallerIds, restored.Batches, new ShardLog(store, location.LogFolder, next)))
                .ConfigureAwait(false);
            LogRestored(name, snapshot.Blob, restored.Index.Count, 0);
            return snapshot with { Count = restored.Index.Count, LogFromSegment = next };
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Puts a restored index on the host's search engine (<see cref="ShardCoreOptions.SearchEngine"/>); after the
    /// replay, so that a device engine takes the shard's vectors in one upload.
    /// </summary>
    private async Task UseSearchEngineAsync(FaissIndex index) =>
        await RunOnFaissWorkerAsync(() => index.UseSearchEngine(options.SearchEngine)).ConfigureAwait(false);

    private static void Replay(RestoredShard shard, LogRecord record)
    {
        switch (record.Kind)
        {
            case LogRecordKind.Add:
                if (shard.Batches.TryGet(record.BatchId) is not null)
                {
                    // the same batch twice: a retry of one whose first write reached the log though it failed
                    break;
                }

                ApplyAdd(shard.Index, record.Vectors, record.Ids);
                if (record.CallerIds)
                {
                    shard.CallerIds.UnionWith(record.Ids);
                }

                shard.Batches.Remember(new BatchReceipt(record.BatchId, record.CallerIds ? -1 : record.Ids[0], record.Ids.Length));
                break;
            case LogRecordKind.Remove:
                shard.Index.Remove(record.Ids);
                shard.CallerIds.ExceptWith(record.Ids);
                break;
            case LogRecordKind.Train:
                shard.Index.Train(record.Vectors);
                break;
        }
    }

    private async Task<RestoredShard> ReadSnapshotAsync(ShardLocation location, string blob, string checksum)
    {
        await using var stream = await store.OpenReadAsync(blob).ConfigureAwait(false)
            ?? throw new InvalidDataException($"Snapshot '{blob}' is missing from {store.Description}.");

        // faiss reads the snapshot straight from the store into its own memory, checksummed on the way; on a thread of
        // its own (the reads are synchronous and use no OpenMP), so the shards of a silo restore side by side
        var (callerIds, receipts, index) = await Task.Factory.StartNew(
            () => ShardSnapshot.Read(stream, blob, checksum, FaissIndex.ReadFrom), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)
            .ConfigureAwait(false);
        if (index.Dimension != location.Spec.Dimension)
        {
            index.Dispose();
            throw new InvalidDataException($"Snapshot '{blob}' holds vectors of dimension {index.Dimension}; the index takes {location.Spec.Dimension}.");
        }

        var batches = new RecentBatches(options.RememberedBatches);
        foreach (var batch in receipts)
        {
            batches.Remember(batch);
        }

        return new RestoredShard(index, [.. callerIds], batches);
    }

    /// <summary>The segment a new log starts at: after every segment there is, and at least <paramref name="atLeast"/>.</summary>
    private async Task<long> NextSegmentAsync(string logFolder, long atLeast)
    {
        var segments = await store.ListAsync(logFolder).ConfigureAwait(false);
        return Math.Max(atLeast, segments.Count == 0 ? 0 : segments.Max(StorageLayout.SegmentOf) + 1);
    }

    private sealed record RestoredShard(FaissIndex Index, HashSet<long> CallerIds, RecentBatches Batches);

    [LoggerMessage(Level = LogLevel.Information, Message = "Shard {Shard} restored from {Snapshot}: {Count} vectors, {Records} log records replayed")]
    private partial void LogRestored(string shard, string snapshot, long count, long records);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shard {Shard}: the last record of log segment {Segment} is torn (a write cut short); it was never acknowledged and is dropped")]
    private partial void LogTornTail(string shard, string segment);
}
