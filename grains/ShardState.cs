using OrleansVectors.GrainInterfaces;
using OrleansVectors.Grains.Durability;
using OrleansVectors.Grains.Topology;
using OrleansVectors.Inference.Faiss;

namespace OrleansVectors.Grains;

/// <summary>What a shard holds for one generation of its index: the faiss index, the ids it tracks, and its log.</summary>
internal sealed class ShardState(ShardTopology topology, FaissIndex index, HashSet<long> callerIds, RecentBatches batches, ShardLog log) : IAsyncDisposable
{
    /// <summary>The index's shards.</summary>
    public ShardTopology Topology { get; } = topology;

    /// <summary>The index spec.</summary>
    public IndexSpec Spec => Topology.Spec;

    /// <summary>The generation.</summary>
    public Guid Generation => Topology.Generation;

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
