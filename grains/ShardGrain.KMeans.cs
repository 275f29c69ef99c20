using OrleansVectors.GrainInterfaces;
using OrleansVectors.Grains.Clustering;

namespace OrleansVectors.Grains;

/// <summary>
/// The shard's side of k-means (see <see cref="KMeansGrain"/>): sampling keys, the run's training points, the
/// per-iteration map (assign and sum per centroid, with faiss, on the faiss workers), and the final assignment,
/// kept for member lookups while the shard is unchanged.
/// </summary>
public sealed partial class ShardGrain
{
    /// <summary>Rows read from faiss at a time.</summary>
    private const int KMeansChunkRows = 4096;

    /// <summary>Training points searched against the centroids at a time (faiss blocks its own searches alike).</summary>
    private const int KMeansSearchRows = 16_384;

    private readonly KMeansRuns _kmeansRuns = new();
    private KMeansAssignment? _kmeansAssignment;

    /// <inheritdoc/>
    public async Task<KMeansKeys> KMeansKeysAsync(Guid generation, Guid run, long[]? ids, ulong seed, int take)
    {
        var index = (await RequireAsync(generation)).Index;
        var rows = index.Count; // the run's rows: adds that arrive meanwhile are not in it
        _kmeansRuns.Begin(run, rows, take);
        return await RunOnFaissWorkerAsync(() =>
        {
            var filter = ids is null ? null : new HashSet<long>(ids);
            var hashes = GC.AllocateUninitializedArray<ulong>((int)rows);
            var held = GC.AllocateUninitializedArray<long>((int)rows);
            var count = 0;
            foreach (var (rowIds, _, chunk) in KMeansRows.Read(index, KMeansChunkRows, rows))
            {
                for (var i = 0; i < chunk; i++)
                {
                    if (filter?.Contains(rowIds[i]) != false)
                    {
                        hashes[count] = KMeansRows.Key(rowIds[i], seed);
                        held[count++] = rowIds[i];
                    }
                }
            }

            var smallest = KMeansRows.Smallest(hashes[..count], held[..count], take);
            return new KMeansKeys(smallest.Hashes, smallest.Ids, count);
        });
    }

    /// <inheritdoc/>
    public async Task<long> KMeansPrepareAsync(Guid generation, Guid run, long[]? ids, ulong seed, ulong thresholdHash, long thresholdId)
    {
        var index = (await RequireAsync(generation)).Index;
        var (rows, take) = _kmeansRuns.Extent(run) ?? throw RunLost(run);
        var points = await RunOnFaissWorkerAsync(() =>
        {
            var filter = ids is null ? null : new HashSet<long>(ids);
            // at most `take` keys of this shard can be at most the threshold (it sent its `take` smallest)
            var kept = new KMeansPoints(index.Dimension, (int)Math.Min(rows, take));
            foreach (var (rowIds, vectors, chunk) in KMeansRows.Read(index, KMeansChunkRows, rows))
            {
                for (var i = 0; i < chunk; i++)
                {
                    if (filter?.Contains(rowIds[i]) != false && KMeansRows.AtMost(KMeansRows.Key(rowIds[i], seed), rowIds[i], thresholdHash, thresholdId))
                    {
                        kept.Add(rowIds[i], vectors.AsSpan(i * index.Dimension, index.Dimension));
                    }
                }
            }

            return kept;
        });
        _kmeansRuns.Prepared(run, points);
        return points.Count;
    }

    /// <inheritdoc/>
    public async Task<KMeansSeeds> KMeansSeedsAsync(Guid run, ulong seed, int take)
    {
        var points = RequireRun(run);
        return await Task.Run(() =>
        {
            var ids = points.Ids.ToArray();
            var smallest = KMeansRows.Smallest([.. ids.Select(id => KMeansRows.Key(id, seed))], ids, take);
            return smallest.Ids.Length == 0
                ? new KMeansSeeds([], [], null)
                : new KMeansSeeds(smallest.Hashes, smallest.Ids, VectorBatch.FromRows(points.Select(smallest.Ids).Rows(0, smallest.Ids.Length), points.Dimension));
        });
    }

    /// <inheritdoc/>
    public async Task<KMeansPartial> KMeansStepAsync(Guid run, VectorBatch centroids, bool spherical)
    {
        ArgumentNullException.ThrowIfNull(centroids);
        var points = RequireRun(run);
        return await RunOnFaissWorkerAsync(() =>
        {
            var sums = System.Buffers.ArrayPool<double>.Shared.Rent(centroids.Count * centroids.Dimension);
            Array.Clear(sums);
            var counts = new long[centroids.Count];
            var objective = 0.0;
            using var nearest = KMeansRows.CentroidIndex(centroids, spherical);
            var labels = System.Buffers.ArrayPool<long>.Shared.Rent(KMeansSearchRows);
            var distances = System.Buffers.ArrayPool<float>.Shared.Rent(KMeansSearchRows);
            for (var offset = 0; offset < points.Count; offset += KMeansSearchRows)
            {
                var rows = Math.Min(KMeansSearchRows, points.Count - offset);
                var vectors = points.Rows(offset, rows);
                nearest.Search(vectors, 1, distances.AsSpan(0, rows), labels.AsSpan(0, rows));
                for (var i = 0; i < rows; i++)
                {
                    var c = (int)labels[i];
                    counts[c]++;
                    objective += distances[i];
                    var sum = sums.AsSpan(c * centroids.Dimension, centroids.Dimension);
                    var vector = vectors.Slice(i * centroids.Dimension, centroids.Dimension);
                    for (var j = 0; j < sum.Length; j++)
                    {
                        sum[j] += vector[j];
                    }
                }
            }

            System.Buffers.ArrayPool<long>.Shared.Return(labels);
            System.Buffers.ArrayPool<float>.Shared.Return(distances);
            var partial = new KMeansPartial(sums.AsSpan(0, centroids.Count * centroids.Dimension), counts, objective);
            System.Buffers.ArrayPool<double>.Shared.Return(sums);
            return partial;
        });
    }

    /// <inheritdoc/>
    public async Task<long[]> KMeansAssignAsync(Guid generation, Guid run, long[]? ids, VectorBatch centroids, bool spherical, bool store)
    {
        ArgumentNullException.ThrowIfNull(centroids);
        _kmeansRuns.End(run);
        var index = (await RequireAsync(generation)).Index;
        var version = KMeansVersion;
        var assignment = await RunOnFaissWorkerAsync(() => KMeansAssignment.Compute(run, version, index, centroids, spherical, KMeansChunkRows));
        if (store)
        {
            _kmeansAssignment = assignment;
        }

        return assignment.Sizes(centroids.Count, ids is null ? null : new HashSet<long>(ids));
    }

    /// <inheritdoc/>
    public Task KMeansEndAsync(Guid run)
    {
        _kmeansRuns.End(run);
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public async Task<int[]> KMeansLookupAsync(Guid generation, Guid run, VectorBatch centroids, bool spherical, long[] ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var assignment = await CurrentAssignmentAsync(generation, run, centroids, spherical);
        return [.. ids.Select(assignment.ClusterOf)];
    }

    /// <inheritdoc/>
    public async Task<long[]> KMeansMembersAsync(Guid generation, Guid run, VectorBatch centroids, bool spherical, int cluster) =>
        (await CurrentAssignmentAsync(generation, run, centroids, spherical)).Members(cluster);

    /// <summary>The kept assignment when it is of this run and the shard has not changed since; else computed (and kept) anew.</summary>
    private async Task<KMeansAssignment> CurrentAssignmentAsync(Guid generation, Guid run, VectorBatch centroids, bool spherical)
    {
        ArgumentNullException.ThrowIfNull(centroids);
        var index = (await RequireAsync(generation)).Index;
        var version = KMeansVersion;
        if (_kmeansAssignment is { } kept && kept.Run == run && kept.Version == version)
        {
            return kept;
        }

        return _kmeansAssignment = await RunOnFaissWorkerAsync(() => KMeansAssignment.Compute(run, version, index, centroids, spherical, KMeansChunkRows));
    }

    /// <summary>The shard's state for a kept assignment: replaced by a restore, or changed by adds, removes and training.</summary>
    private KMeansShardVersion KMeansVersion => new(_state, _changes);

    private KMeansPoints RequireRun(Guid run) => _kmeansRuns.Points(run) ?? throw RunLost(run);

    private KMeansFailedException RunLost(Guid run) =>
        new($"Shard '{Key}' holds no training points of k-means run {run}: it restarted (its silo left or failed) during the run. Start the run again.");
}
