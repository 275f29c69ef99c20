using System.Diagnostics;
using Microsoft.Extensions.Logging;
using OrleansVectors.GrainInterfaces;
using OrleansVectors.Grains.Durability;

namespace OrleansVectors.Grains.Shards;

/// <summary>
/// Writing a snapshot: a prefix of the log, written from faiss's memory where it lies while changes wait.
/// </summary>
internal sealed partial class ShardCore
{
    /// <summary>
    /// Writes a snapshot of the open generation to <paramref name="blob"/> and starts a new log segment: the snapshot
    /// holds every change logged before the call and covers the segments below the returned
    /// <see cref="ShardSnapshotInfo.LogFromSegment"/>. Searches go on meanwhile. Changes wait until the snapshot is
    /// written (they are never refused): faiss's memory is written out where it lies, through a serialized view that
    /// pins the index, and a change that reached the index while the view is open would be refused by faiss
    /// (<see cref="Inference.Faiss.FaissIndex.OpenSerializedView"/>).
    /// </summary>
    /// <returns>What the index's manifest records of the snapshot, and how long reading and writing it took.</returns>
    /// <exception cref="ShardLostException">No generation is open.</exception>
    /// <exception cref="StaleGenerationException">Another generation is open, or it was replaced meanwhile.</exception>
    /// <exception cref="IOException">The store failed; the shard goes on as before, its log rolled.</exception>
    public async Task<ShardSnapshotWritten> SnapshotAsync(Guid generation, string blob)
    {
        var state = Require(generation);
        ArgumentException.ThrowIfNullOrWhiteSpace(blob);
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            EnsureCurrent(state);
            await DrainAppliedAsync().ConfigureAwait(false);
            if (_needsReload)
            {
                // a snapshot is a prefix of the log: memory that a failed change set apart from the log is not one
                throw new InvalidOperationException($"Shard {name} must reload from its log before it can snapshot (a change failed after it was logged).");
            }

            // everything logged so far is in faiss and in segments below logFrom; the snapshot covers exactly that.
            var logFrom = await state.Log.RollAsync().ConfigureAwait(false);
            long[] callerIds;
            BatchReceipt[] batches;
            lock (_sync)
            {
                callerIds = [.. state.CallerIds];
                batches = state.Batches.ToArray();
            }

            var started = Stopwatch.GetTimestamp();
            using var faiss = await RunOnFaissWorkerAsync(state.Index.OpenSerializedView).ConfigureAwait(false);
            var parts = await Task.Run(() => ShardSnapshot.Frame(callerIds, batches, faiss)).ConfigureAwait(false);
            await store.WriteAsync(blob, parts).ConfigureAwait(false);
            var bytes = parts.Sum(p => (long)p.Length);
            var count = state.Index.Count;
            LogSnapshotWritten(name, blob, count, bytes);
            Interlocked.Exchange(ref _addedSinceSnapshot, 0);
            var info = new ShardSnapshotInfo(state.Location.Shard, blob, ShardSnapshot.Checksum(parts[0].Span), count, bytes, logFrom);
            return new ShardSnapshotWritten(info, Stopwatch.GetElapsedTime(started));
        }
        finally
        {
            _gate.Release();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Shard {Shard} wrote snapshot {Blob}: {Count} vectors, {Bytes} bytes")]
    private partial void LogSnapshotWritten(string shard, string blob, long count, long bytes);
}

/// <summary>A snapshot a <see cref="ShardCore"/> wrote, and the time its serialization and write took.</summary>
internal sealed record ShardSnapshotWritten(ShardSnapshotInfo Info, TimeSpan Duration);
