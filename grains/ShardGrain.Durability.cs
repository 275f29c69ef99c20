using System.Diagnostics;
using Microsoft.Extensions.Logging;
using OrleansVectors.GrainInterfaces;
using OrleansVectors.Grains.Durability;
using OrleansVectors.Grains.Topology;
using OrleansVectors.Inference.Faiss;

namespace OrleansVectors.Grains;

/// <summary>The shard's durable side: restore on activation, snapshots, restore of a given snapshot.</summary>
public sealed partial class ShardGrain
{
    /// <inheritdoc/>
    public async Task<ShardSnapshotInfo> SnapshotAsync(Guid generation, string blob)
    {
        var state = await RequireAsync(generation);
        await _gate.WaitAsync();
        try
        {
            EnsureCurrent(state);
            await DrainAppliedAsync();

            // everything logged so far is in faiss and in segments below logFrom; the snapshot covers exactly that.
            // faiss's memory is written out where it lies, so changes wait for the write (searches go on).
            var logFrom = await state.Log.RollAsync();
            long[] callerIds = [.. state.CallerIds];
            var batches = state.Batches.ToArray();
            var started = Stopwatch.GetTimestamp();
            using var faiss = await RunOnFaissWorkerAsync(state.Index.OpenSerializedView);
            var parts = await Task.Run(() => ShardSnapshot.Frame(callerIds, batches, faiss));
            await store.WriteAsync(blob, parts);
            var bytes = parts.Sum(p => (long)p.Length);
            LogSnapshotWritten(Key, blob, state.Index.Count, bytes);
            metrics.SnapshotWritten(ShardIndexName, Stopwatch.GetElapsedTime(started), bytes);
            _addedSinceSnapshot = 0;
            _snapshotRequested = default;
            return new ShardSnapshotInfo(ShardNumber, blob, ShardSnapshot.Checksum(parts[0].Span), state.Index.Count, bytes, logFrom);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc/>
    public async Task<ShardSnapshotInfo> RestoreSnapshotAsync(Guid generation, ShardSnapshotInfo snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        await WaitForRestoreAsync(throwOnFailure: false);
        var map = await GrainFactory.GetGrain<IIndexGrain>(ShardIndexName).GetShardMapAsync();
        if (map.Generation != generation)
        {
            throw new StaleGenerationException(Key);
        }

        await _gate.WaitAsync();
        try
        {
            await DrainAppliedAsync();
            var topology = new ShardTopology(map);
            var prefix = StorageLayout.Generation(topology.Index, generation);
            var logFolder = StorageLayout.Log(prefix, ShardNumber);
            var restored = await ReadSnapshotAsync(topology, snapshot.Blob, snapshot.Checksum);

            // the log from here on starts after every segment there is: what they hold is superseded
            var next = await NextSegmentAsync(logFolder, _state?.Generation == generation ? await _state.Log.RollAsync() : 0);
            await UseSiloSearchEngineAsync(restored.Index);
            await ReplaceStateAsync(new ShardState(topology, restored.Index, restored.CallerIds, restored.Batches, new ShardLog(store, logFolder, next)));
            _ready = Task.CompletedTask;
            LogRestored(Key, snapshot.Blob, restored.Index.Count, 0);
            return snapshot with { Count = restored.Index.Count, LogFromSegment = next };
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Restores the shard at activation, when its index exists.</summary>
    private async Task RestoreFromStoreAsync()
    {
        ShardMap map;
        try
        {
            map = await GrainFactory.GetGrain<IIndexGrain>(ShardIndexName).GetShardMapAsync();
        }
        catch (IndexNotFoundException)
        {
            return; // nothing to restore; a create initializes the shard
        }

        try
        {
            await LoadAsync(map);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // the next activation tries again (a blob service that was briefly away; a corrupt object fails again,
            // naming it, until an earlier version is restored)
            LogRestoreFailed(Key, e.Message);
            DeactivateOnIdle();
            throw;
        }
    }

    /// <summary>Loads the newest committed snapshot of a generation (if any) and replays the log after it.</summary>
    private async Task LoadAsync(ShardMap map)
    {
        var topology = new ShardTopology(map);
        var prefix = StorageLayout.Generation(topology.Index, topology.Generation);
        var logFolder = StorageLayout.Log(prefix, ShardNumber);
        var manifest = await IndexManifest.ReadCurrentAsync(store, prefix);
        var entry = manifest?.Shards.FirstOrDefault(s => s.Shard == ShardNumber);
        var restored = entry is null
            ? new RestoredShard(topology.CreateFaissIndex(), [], new RecentBatches(RememberedBatches))
            : await ReadSnapshotAsync(topology, entry.Blob, entry.Checksum);
        try
        {
            var segments = await store.ListAsync(logFolder);
            long replayed = 0;
            foreach (var path in segments.Where(p => StorageLayout.SegmentOf(p) >= (entry?.LogFromSegment ?? 0)))
            {
                var content = await store.ReadAsync(path) ?? throw new InvalidDataException($"Log segment '{path}' disappeared while the shard was restored.");
                var records = LogRecord.ReadSegment(content.Content, path, out var torn);
                if (torn)
                {
                    LogTornTail(Key, path);
                }

                await RunOnFaissWorkerAsync(() =>
                {
                    foreach (var record in records)
                    {
                        Replay(restored, record);
                    }

                    return true;
                });
                replayed += records.Count;
            }

            await UseSiloSearchEngineAsync(restored.Index);
            var next = await NextSegmentAsync(logFolder, entry?.LogFromSegment ?? 0);
            await ReplaceStateAsync(new ShardState(topology, restored.Index, restored.CallerIds, restored.Batches, new ShardLog(store, logFolder, next)));
            LogRestored(Key, entry?.Blob ?? "(no snapshot)", restored.Index.Count, replayed);
        }
        catch
        {
            restored.Index.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Puts a restored index on this silo's search engine (<see cref="Hosting.OrleansVectorsOptions.SearchEngine"/>);
    /// after the replay, so that a device engine takes the shard's vectors in one upload.
    /// </summary>
    private async Task UseSiloSearchEngineAsync(FaissIndex index)
    {
        var engine = options.Value.ToSearchEngineOptions();
        await RunOnFaissWorkerAsync(() =>
        {
            index.UseSearchEngine(engine);
            return true;
        });
    }

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

    private async Task<RestoredShard> ReadSnapshotAsync(ShardTopology topology, string blob, string checksum)
    {
        await using var stream = await store.OpenReadAsync(blob) ?? throw new InvalidDataException($"Snapshot '{blob}' is missing from {store.Description}.");

        // faiss reads the snapshot straight from the store into its own memory, checksummed on the way; on a thread of
        // its own (the reads are synchronous and use no OpenMP), so the shards of a silo restore side by side
        var (callerIds, receipts, index) = await Task.Factory.StartNew(
            () => ShardSnapshot.Read(stream, blob, checksum, FaissIndex.ReadFrom), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        if (index.Dimension != topology.Spec.Dimension)
        {
            index.Dispose();
            throw new InvalidDataException($"Snapshot '{blob}' holds vectors of dimension {index.Dimension}; the index takes {topology.Spec.Dimension}.");
        }

        var batches = new RecentBatches(RememberedBatches);
        foreach (var batch in receipts)
        {
            batches.Remember(batch);
        }

        return new RestoredShard(index, [.. callerIds], batches);
    }

    /// <summary>The segment a new log starts at: after every segment there is, and at least <paramref name="atLeast"/>.</summary>
    private async Task<long> NextSegmentAsync(string logFolder, long atLeast)
    {
        var segments = await store.ListAsync(logFolder);
        return Math.Max(atLeast, segments.Count == 0 ? 0 : segments.Max(StorageLayout.SegmentOf) + 1);
    }

    /// <summary>Waits (bounded) for the activation's restore; a failed one fails the call with its reason.</summary>
    private async Task WaitForRestoreAsync(bool throwOnFailure)
    {
        try
        {
            await _ready.WaitAsync(options.Value.RestoreWait);
        }
        catch (TimeoutException)
        {
            throw new ShardUnavailableException(ShardIndexName, ShardNumber, $"still restoring its snapshot and log after {options.Value.RestoreWait.TotalSeconds:0} s; try again");
        }
        catch (Exception) when (!throwOnFailure)
        {
            // logged where the restore failed
        }
        catch (Exception e) when (e is InvalidDataException or IOException or InvalidOperationException)
        {
            throw new InvalidOperationException(
                $"Shard '{Key}' could not be restored: {e.Message} Restore an earlier snapshot version (IIndexGrain.RestoreAsync, 'ovx restore --version N') or drop the index.");
        }
    }

    /// <summary>Waits for every logged change to be applied (their failures are reported to their own callers).</summary>
    private async Task DrainAppliedAsync()
    {
        try
        {
            await _applied;
        }
        catch (Exception)
        {
            // reported to the change's caller
        }
    }

    private async Task ReplaceStateAsync(ShardState? next)
    {
        var previous = _state;
        _state = next;
        _addedSinceSnapshot = 0;
        _snapshotRequested = default;
        if (previous is not null)
        {
            await previous.DisposeAsync();
        }
    }

    private sealed record RestoredShard(FaissIndex Index, HashSet<long> CallerIds, RecentBatches Batches);

    [LoggerMessage(Level = LogLevel.Information, Message = "Shard {Shard} restored from {Snapshot}: {Count} vectors, {Records} log records replayed")]
    private partial void LogRestored(string shard, string snapshot, long count, long records);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shard {Shard}: the last record of log segment {Segment} is torn (a write cut short); it was never acknowledged and is dropped")]
    private partial void LogTornTail(string shard, string segment);

    [LoggerMessage(Level = LogLevel.Error, Message = "Shard {Shard} could not be restored: {Reason}")]
    private partial void LogRestoreFailed(string shard, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Shard {Shard} wrote snapshot {Blob}: {Count} vectors, {Bytes} bytes")]
    private partial void LogSnapshotWritten(string shard, string blob, long count, long bytes);
}
