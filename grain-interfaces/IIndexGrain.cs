using Orleans.Concurrency;

namespace OrleansVectors.GrainInterfaces;

/// <summary>
/// One named index (the grain key): its spec, id allocation and shard map. Adds go through it, so ids are
/// allocated in acknowledgement order; searches go through <see cref="IQueryGrain"/>.
/// </summary>
[Alias("ov.IIndexGrain")]
public interface IIndexGrain : IGrainWithStringKey
{
    /// <summary>Creates the index; creating it again with the same spec is a no-op.</summary>
    /// <exception cref="ArgumentException">The spec is invalid (the message names the field), or the factory string does not build.</exception>
    /// <exception cref="InvalidOperationException">The index exists with a different spec.</exception>
    [Alias("Create")]
    Task<IndexDescription> CreateAsync(IndexSpec spec);

    /// <summary>The spec, count and shards.</summary>
    /// <exception cref="IndexNotFoundException">The index does not exist.</exception>
    [Alias("Describe")]
    Task<IndexDescription> DescribeAsync();

    /// <summary>The number of vectors.</summary>
    /// <exception cref="IndexNotFoundException">The index does not exist.</exception>
    [Alias("Count")]
    Task<long> CountAsync();

    /// <summary>Deletes the index and all its vectors; dropping a missing index is a no-op.</summary>
    [Alias("Drop")]
    Task DropAsync();

    /// <summary>What a query front needs to fan out. Interleaves with adds.</summary>
    /// <exception cref="IndexNotFoundException">The index does not exist.</exception>
    [Alias("GetShardMap"), AlwaysInterleave]
    Task<ShardMap> GetShardMapAsync();

    /// <summary>
    /// Adds vectors (embeddings, or raw inputs when the index has a model) to one shard and acknowledges once
    /// they are searchable. Without <paramref name="ids"/> the index numbers them from its count in order;
    /// with ids, they are kept (an index takes either kind, decided by its first add).
    /// </summary>
    /// <exception cref="IndexNotFoundException">The index does not exist.</exception>
    /// <exception cref="ArgumentException">Wrong dimension, NaN or infinity, an id count that differs from the vector count, negative or duplicate ids.</exception>
    /// <exception cref="InvalidOperationException">Ids given to an index that numbers its vectors, or missing for one that takes caller ids.</exception>
    [Alias("Add")]
    Task<AddReceipt> AddAsync(VectorBatch vectors, long[]? ids = null);

    /// <summary>Trains every shard's quantizer (IVF, PQ) on a sample; shards of trainable types otherwise train on their first add.</summary>
    [Alias("Train")]
    Task TrainAsync(VectorBatch sample);

    /// <summary>Removes vectors by id from every shard; returns how many were present.</summary>
    [Alias("Remove")]
    Task<long> RemoveAsync(long[] ids);
}
