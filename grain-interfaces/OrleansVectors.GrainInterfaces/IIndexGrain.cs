using Orleans.Concurrency;

namespace OrleansVectors.GrainInterfaces;

/// <summary>
/// One named index (the grain key): its spec, id leases, snapshots and exports. Adds go through
/// <see cref="IIngestGrain"/> with ids leased here (in input order); searches go through <see cref="IQueryGrain"/>.
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

    /// <summary>Deletes the index and all its vectors; returns false (and does nothing) when it does not exist.</summary>
    [Alias("Drop")]
    Task<bool> DropAsync();

    /// <summary>The spec the index was created with. Interleaves with adds.</summary>
    /// <exception cref="IndexNotFoundException">The index does not exist.</exception>
    [Alias("GetSpec"), AlwaysInterleave]
    Task<IndexSpec> GetSpecAsync();

    /// <summary>
    /// Hands ids to an input of <paramref name="count"/> vectors (called by the client library for a whole input, and
    /// by the ingest front for a batch without them), or with <paramref name="callerIds"/> only checks that the index
    /// takes caller ids. The same lease id gets the same lease while the index is active, so a retry keeps its ids.
    /// The first add decides whether the index numbers its vectors or takes caller ids.
    /// </summary>
    /// <exception cref="IndexNotFoundException">The index does not exist.</exception>
    /// <exception cref="InvalidOperationException">Ids given to an index that numbers its vectors, or missing for one that takes caller ids.</exception>
    [Alias("LeaseIds")]
    Task<IdLease> LeaseIdsAsync(Guid leaseId, int count, bool callerIds);

    /// <summary>Trains every shard's quantizer (IVF, PQ) on a sample; shards of trainable types otherwise train on their first add.</summary>
    [Alias("Train")]
    Task TrainAsync(VectorBatch sample);

    /// <summary>Removes vectors by id from every shard; returns how many were present.</summary>
    [Alias("Remove")]
    Task<long> RemoveAsync(long[] ids);

    /// <summary>
    /// Snapshots every shard and commits a new version (the manifest write is the commit); the logs it covers are
    /// then truncated and versions beyond the retention count deleted. Searches keep running meanwhile; a shard's adds wait while it writes its own snapshot.
    /// </summary>
    [Alias("Snapshot"), ResponseTimeout("00:05:00")]
    Task<SnapshotInfo> SnapshotAsync();

    /// <summary>The retained snapshot versions, oldest first, then the saved (named) snapshots.</summary>
    [Alias("ListSnapshots")]
    Task<IReadOnlyList<SnapshotInfo>> ListSnapshotsAsync();

    /// <summary>Puts every shard back to a retained version; what was added after it is discarded. Commits as a new version.</summary>
    /// <exception cref="ArgumentException">No such version is retained.</exception>
    [Alias("Restore"), ResponseTimeout("00:05:00")]
    Task<SnapshotInfo> RestoreAsync(long version);

    /// <summary>Snapshots the index and keeps a copy under <paramref name="name"/> that outlives retention and drop (the seed's SaveKnnFunc).</summary>
    [Alias("Save"), ResponseTimeout("00:05:00")]
    Task<SnapshotInfo> SaveAsync(string name);

    /// <summary>
    /// Replaces the index's vectors with a saved snapshot (the seed's LoadKnnFunc), creating the index with the
    /// saved spec when it does not exist.
    /// </summary>
    /// <exception cref="ArgumentException">No snapshot is saved under that name.</exception>
    /// <exception cref="InvalidOperationException">The index exists with a spec other than the saved one.</exception>
    [Alias("Load"), ResponseTimeout("00:05:00")]
    Task<SnapshotInfo> LoadAsync(string name);

    /// <summary>
    /// Snapshots the index and writes all its vectors, with their ids, as one faiss file (the shards' indexes merged,
    /// under an id map) into the cluster's storage, to be read with <see cref="ReadExportAsync"/> and then deleted.
    /// The merge runs in the index grain's silo and holds the whole index in its memory.
    /// </summary>
    /// <exception cref="InvalidOperationException">faiss cannot merge the shards' type (IVF shards train separately; HNSW cannot merge).</exception>
    [Alias("Export"), ResponseTimeout("00:05:00")]
    Task<ExportInfo> ExportAsync();

    /// <summary>Up to <paramref name="length"/> bytes (at most <see cref="Limits.MaxExportChunkBytes"/>) of an export from <paramref name="offset"/>.</summary>
    [Alias("ReadExport")]
    Task<byte[]> ReadExportAsync(string exportId, long offset, int length);

    /// <summary>Deletes an export (a missing one is not an error).</summary>
    [Alias("DeleteExport")]
    Task DeleteExportAsync(string exportId);
}
