namespace OrleansVectors.GrainInterfaces;

/// <summary>
/// The adding front: a stateless worker on every silo. It checks a batch against the index's spec, takes ids for
/// it from the index when the request has none, and sends it straight to the shard or shards it goes to, which
/// acknowledge once their part is in their write-ahead log. Batches of one client travel in parallel; use key 0.
/// </summary>
[Alias("ov.IIngestGrain")]
public interface IIngestGrain : IGrainWithIntegerKey
{
    /// <summary>
    /// Adds a batch. Without caller ids the index numbers its vectors; with ids, they are kept (an index takes either
    /// kind, decided by its first add). The batch id makes the call idempotent: sending the same request again (after
    /// a timeout, say) stores it once and returns the first receipt. A client that sends the batches of one input side
    /// by side leases the input first (<see cref="IIndexGrain.LeaseIdsAsync"/>) and gives each batch its first id, so
    /// ids follow input order; the front decides the shards (a batch with ids from its request is split by the home
    /// shard of each id, which spreads the vectors evenly).
    /// </summary>
    /// <exception cref="IndexNotFoundException">The index does not exist.</exception>
    /// <exception cref="ArgumentException">Wrong dimension, NaN or infinity, an id count that differs from the vector count, negative or duplicate ids.</exception>
    /// <exception cref="InvalidOperationException">Ids given to an index that numbers its vectors, or missing for one that takes caller ids.</exception>
    [Alias("Add")]
    Task<AddReceipt> AddAsync(string index, AddRequest request);
}
