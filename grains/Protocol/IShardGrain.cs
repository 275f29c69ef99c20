using Orleans.Concurrency;
using OrleansVectors.GrainInterfaces;

namespace OrleansVectors.Grains;

/// <summary>
/// One shard of an index (key "index/shard"): a faiss index over its part of the vectors, keyed by global ids,
/// placed by the shard placement strategy. Reached through the index, ingest, query and k-means grains;
/// clients cannot call it (<see cref="ClusterInternalAttribute"/>).
/// </summary>
[Alias("ov.IShardGrain"), ClusterInternal]
public interface IShardGrain : IGrainWithStringKey
{
    /// <summary>Creates the shard's index for a spec and generation (idempotent for the same generation).</summary>
    [Alias("Initialize")]
    Task InitializeAsync(IndexSpec spec, Guid generation);

    /// <summary>
    /// Embeds (when the index has a model) and adds vectors under the given global ids, acknowledging once they are
    /// in the shard's write-ahead log and searchable; <paramref name="callerIds"/> says they came from the caller
    /// (and so are checked for duplicates). A batch id the shard has stored already returns its first receipt.
    /// </summary>
    [Alias("Add")]
    Task<AddReceipt> AddAsync(Guid generation, Guid batchId, VectorBatch vectors, long[] ids, bool callerIds);

    /// <summary>Trains the shard's index on a sample (embedded first when the index has a model).</summary>
    [Alias("Train")]
    Task TrainAsync(Guid generation, VectorBatch sample);

    /// <summary>The k nearest stored vectors of each query embedding, with global ids. A cancelled call that has not started is dropped.</summary>
    [Alias("Search"), ReadOnly]
    Task<NeighborResults> SearchAsync(Guid generation, VectorBatch queries, int k, QueryOptions options, CancellationToken cancellationToken = default);

    /// <summary>Every stored vector within <paramref name="radius"/> of each query embedding.</summary>
    [Alias("RangeSearch"), ReadOnly]
    Task<RangeResults> RangeSearchAsync(Guid generation, VectorBatch queries, float radius, QueryOptions options, CancellationToken cancellationToken = default);

    /// <summary>Which of the given ids the shard already holds.</summary>
    [Alias("FindExisting"), ReadOnly]
    Task<long[]> FindExistingAsync(Guid generation, long[] ids);

    /// <summary>Removes ids; returns how many were present.</summary>
    [Alias("Remove")]
    Task<long> RemoveAsync(Guid generation, long[] ids);

    /// <summary>Count and silo of the shard.</summary>
    [Alias("Describe"), ReadOnly]
    Task<ShardDescription> DescribeAsync();

    /// <summary>Writes the shard's snapshot to <paramref name="blob"/> and starts a new log segment; searches go on meanwhile, adds wait for it.</summary>
    [Alias("Snapshot"), ResponseTimeout("00:02:00")]
    Task<ShardSnapshotInfo> SnapshotAsync(Guid generation, string blob);

    /// <summary>Replaces the shard's vectors with a snapshot, discarding its log; returns it with the log segment the shard now starts from.</summary>
    [Alias("RestoreSnapshot"), ResponseTimeout("00:02:00")]
    Task<ShardSnapshotInfo> RestoreSnapshotAsync(Guid generation, ShardSnapshotInfo snapshot);

    /// <summary>
    /// k-means, sampling: how many vectors the shard clusters for the run (all it holds now, or those of
    /// <paramref name="ids"/>) and the <paramref name="take"/> smallest keys among them (<see cref="KMeansKeys"/>).
    /// </summary>
    [Alias("KMeansKeys"), ReadOnly, ResponseTimeout("00:10:00")]
    Task<KMeansKeys> KMeansKeysAsync(Guid generation, Guid run, long[]? ids, ulong seed, int take);

    /// <summary>k-means: keeps the run's training points (keys up to the threshold) in memory; returns how many.</summary>
    [Alias("KMeansPrepare"), ReadOnly, ResponseTimeout("00:10:00")]
    Task<long> KMeansPrepareAsync(Guid generation, Guid run, long[]? ids, ulong seed, ulong thresholdHash, long thresholdId);

    /// <summary>k-means: the run's training points with the <paramref name="take"/> smallest keys under <paramref name="seed"/>, with their vectors.</summary>
    [Alias("KMeansSeeds"), ReadOnly]
    Task<KMeansSeeds> KMeansSeedsAsync(Guid run, ulong seed, int take);

    /// <summary>k-means, one iteration's map: assigns the run's training points to their nearest centroid and sums them per centroid.</summary>
    [Alias("KMeansStep"), ReadOnly, ResponseTimeout("00:10:00")]
    Task<KMeansPartial> KMeansStepAsync(Guid run, VectorBatch centroids, bool spherical);

    /// <summary>
    /// k-means, the final pass: assigns every vector (counting those of <paramref name="ids"/>, or all) to its
    /// nearest centroid, keeps the assignment under <paramref name="run"/> when <paramref name="store"/>, and
    /// returns the count per centroid. Ends the run's sampling state.
    /// </summary>
    [Alias("KMeansAssign"), ReadOnly, ResponseTimeout("00:10:00")]
    Task<long[]> KMeansAssignAsync(Guid generation, Guid run, long[]? ids, VectorBatch centroids, bool spherical, bool store);

    /// <summary>k-means: forgets a run's training points (a run that failed or was cancelled).</summary>
    [Alias("KMeansEnd")]
    Task KMeansEndAsync(Guid run);

    /// <summary>The nearest centroid of each id the shard holds (-1 for the others), from the kept assignment when it is current.</summary>
    [Alias("KMeansLookup"), ReadOnly, ResponseTimeout("00:10:00")]
    Task<int[]> KMeansLookupAsync(Guid generation, Guid run, VectorBatch centroids, bool spherical, long[] ids);

    /// <summary>The ids of the shard's vectors whose nearest centroid is <paramref name="cluster"/>, ascending.</summary>
    [Alias("KMeansMembers"), ReadOnly, ResponseTimeout("00:10:00")]
    Task<long[]> KMeansMembersAsync(Guid generation, Guid run, VectorBatch centroids, bool spherical, int cluster);

    /// <summary>Ends this activation; the next call restores the shard from storage.</summary>
    [Alias("Reload")]
    Task ReloadAsync();

    /// <summary>Drops the shard's index and deactivates.</summary>
    [Alias("Drop")]
    Task DropAsync();
}
