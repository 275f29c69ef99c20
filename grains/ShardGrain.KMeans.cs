using OrleansVectors.GrainInterfaces;
using OrleansVectors.Grains.Shards;

namespace OrleansVectors.Grains;

/// <summary>The shard's side of k-means (see <see cref="KMeansGrain"/>), forwarded to its <see cref="ShardKMeans"/> once the shard is restored.</summary>
public sealed partial class ShardGrain
{
    /// <inheritdoc/>
    public async Task<KMeansKeys> KMeansKeysAsync(Guid generation, Guid run, long[]? ids, ulong seed, int take)
    {
        await WaitForRestoreAsync(throwOnFailure: true);
        return await KMeans.KeysAsync(generation, run, ids, seed, take);
    }

    /// <inheritdoc/>
    public async Task<long> KMeansPrepareAsync(Guid generation, Guid run, long[]? ids, ulong seed, ulong thresholdHash, long thresholdId)
    {
        await WaitForRestoreAsync(throwOnFailure: true);
        return await KMeans.PrepareAsync(generation, run, ids, seed, thresholdHash, thresholdId);
    }

    /// <inheritdoc/>
    public Task<KMeansSeeds> KMeansSeedsAsync(Guid run, ulong seed, int take) => KMeans.SeedsAsync(run, seed, take);

    /// <inheritdoc/>
    public Task<KMeansPartial> KMeansStepAsync(Guid run, VectorBatch centroids, bool spherical) => KMeans.StepAsync(run, centroids, spherical);

    /// <inheritdoc/>
    public async Task<long[]> KMeansAssignAsync(Guid generation, Guid run, long[]? ids, VectorBatch centroids, bool spherical, bool store)
    {
        await WaitForRestoreAsync(throwOnFailure: true);
        return await KMeans.AssignAsync(generation, run, ids, centroids, spherical, store);
    }

    /// <inheritdoc/>
    public Task KMeansEndAsync(Guid run)
    {
        KMeans.End(run);
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public async Task<int[]> KMeansLookupAsync(Guid generation, Guid run, VectorBatch centroids, bool spherical, long[] ids)
    {
        await WaitForRestoreAsync(throwOnFailure: true);
        return await KMeans.LookupAsync(generation, run, centroids, spherical, ids);
    }

    /// <inheritdoc/>
    public async Task<long[]> KMeansMembersAsync(Guid generation, Guid run, VectorBatch centroids, bool spherical, int cluster)
    {
        await WaitForRestoreAsync(throwOnFailure: true);
        return await KMeans.MembersAsync(generation, run, centroids, spherical, cluster);
    }
}
