using OrleansVectors.GrainInterfaces;
using OrleansVectors.Grains.Durability;
using OrleansVectors.Inference.Faiss;

namespace OrleansVectors.Grains.Shards;

/// <summary>
/// What a <see cref="ShardCore"/> holds for one generation of its index: the faiss index, the ids it tracks, the
/// recent batches and its log. <see cref="CallerIds"/> and <see cref="Batches"/> are not thread-safe: the core reads
/// and changes them under its lock.
/// </summary>
internal sealed class ShardState(ShardLocation location, FaissIndex index, HashSet<long> callerIds, RecentBatches batches, ShardLog log) : IAsyncDisposable
{
    /// <summary>Which shard of which generation this is.</summary>
    public ShardLocation Location { get; } = location;

    /// <summary>The index spec.</summary>
    public IndexSpec Spec => Location.Spec;

    /// <summary>The generation.</summary>
    public Guid Generation => Location.Generation;

    /// <summary>The faiss index, keyed by global ids.</summary>
    public FaissIndex Index { get; } = index;

    /// <summary>The caller-given ids the shard holds (auto-numbered ids cannot collide and are not tracked).</summary>
    public HashSet<long> CallerIds { get; } = callerIds;

    /// <summary>Recently stored batches, for idempotent retries.</summary>
    public RecentBatches Batches { get; } = batches;

    /// <summary>The write-ahead log.</summary>
    public ShardLog Log { get; } = log;

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await Log.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            Index.Dispose();
        }
    }
}
