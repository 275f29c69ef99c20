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
    private const int KMeansChunkRows = 16_384;

    private readonly Dictionary<Guid, KMeansPoints> _kmeansRuns = [];
    private KMeansAssignment? _kmeansAssignment;

    /// <inheritdoc/>
    public async Task<KMeansKeys> KMeansKeysAsync(Guid generation, long[]? ids, ulong seed, int take)
    {
        var index = (await RequireAsync(generation)).Index;
        return await RunOnFaissWorkerAsync(() =>
        {
            var filter = ids is null ? null : new HashSet<long>(ids);
            var keys = new List<(ulong Hash, long Id)>();
            foreach (var (rowIds, _, count) in KMeansRows.Read(index, KMeansChunkRows, withVectors: false))
            {
                for (var i = 0; i < count; i++)
                {
                    if (filter?.Contains(rowIds[i]) != false)
                    {
                        keys.Add((KMeansRows.Key(rowIds[i], seed), rowIds[i]));
                    }
                }
            }

            var smallest = KMeansRows.Smallest(keys, take);
            return new KMeansKeys([.. smallest.Select(k => k.Hash)], [.. smallest.Select(k => k.Id)], keys.Count);
        });
    }

    /// <inheritdoc/>
    public async Task<long> KMeansPrepareAsync(Guid generation, Guid run, long[]? ids, ulong seed, ulong thresholdHash, long thresholdId)
    {
        var index = (await RequireAsync(generation)).Index;
        var points = await RunOnFaissWorkerAsync(() =>
        {
            var filter = ids is null ? null : new HashSet<long>(ids);
            var kept = new KMeansPoints(index.Dimension);
            foreach (var (rowIds, vectors, count) in KMeansRows.Read(index, KMeansChunkRows, withVectors: true))
            {
                for (var i = 0; i < count; i++)
                {
                    if (filter?.Contains(rowIds[i]) != false && (KMeansRows.Key(rowIds[i], seed), rowIds[i]).CompareTo((thresholdHash, thresholdId)) <= 0)
                    {
                        kept.Add(rowIds[i], vectors.AsSpan(i * index.Dimension, index.Dimension));
                    }
                }
            }

            return kept;
        });
        _kmeansRuns[run] = points;
        return points.Count;
    }

    /// <inheritdoc/>
    public async Task<KMeansSeeds> KMeansSeedsAsync(Guid run, ulong seed, int take)
    {
        var points = RequireRun(run);
        return await Task.Run(() =>
        {
            var smallest = KMeansRows.Smallest([.. Enumerable.Range(0, points.Count).Select(i => (KMeansRows.Key(points.Ids[i], seed), points.Ids[i]))], take);
            if (smallest.Count == 0)
            {
                return new KMeansSeeds([], [], null);
            }

            var rows = new float[smallest.Count * points.Dimension];
            var position = points.Positions();
            for (var i = 0; i < smallest.Count; i++)
            {
                points.Vector(position[smallest[i].Id]).CopyTo(rows.AsSpan(i * points.Dimension));
            }

            return new KMeansSeeds([.. smallest.Select(s => s.Hash)], [.. smallest.Select(s => s.Id)], VectorBatch.FromRows(rows, points.Dimension));
        });
    }

    /// <inheritdoc/>
    public async Task<KMeansPartial> KMeansStepAsync(Guid run, VectorBatch centroids, bool spherical)
    {
        ArgumentNullException.ThrowIfNull(centroids);
        var points = RequireRun(run);
        return await RunOnFaissWorkerAsync(() =>
        {
            var sums = new double[centroids.Count * centroids.Dimension];
            var counts = new long[centroids.Count];
            var objective = 0.0;
            using var nearest = KMeansRows.CentroidIndex(centroids, spherical);
            for (var offset = 0; offset < points.Count; offset += KMeansChunkRows)
            {
                var rows = Math.Min(KMeansChunkRows, points.Count - offset);
                var vectors = points.Rows(offset, rows);
                var result = nearest.Search(vectors, 1);
                for (var i = 0; i < rows; i++)
                {
                    var c = (int)result.Labels[i];
                    counts[c]++;
                    objective += result.Distances[i];
                    var sum = sums.AsSpan(c * centroids.Dimension, centroids.Dimension);
                    var vector = vectors.Slice(i * centroids.Dimension, centroids.Dimension);
                    for (var j = 0; j < sum.Length; j++)
                    {
                        sum[j] += vector[j];
                    }
                }
            }

            return new KMeansPartial(sums, counts, objective);
        });
    }

    /// <inheritdoc/>
    public async Task<long[]> KMeansAssignAsync(Guid generation, Guid run, long[]? ids, VectorBatch centroids, bool spherical, bool store)
    {
        ArgumentNullException.ThrowIfNull(centroids);
        _kmeansRuns.Remove(run);
        var index = (await RequireAsync(generation)).Index;
        var version = (_state, _changes);
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
        _kmeansRuns.Remove(run);
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
        var version = (_state, _changes);
        if (_kmeansAssignment is { } kept && kept.Run == run && kept.Version.Equals(version))
        {
            return kept;
        }

        return _kmeansAssignment = await RunOnFaissWorkerAsync(() => KMeansAssignment.Compute(run, version, index, centroids, spherical, KMeansChunkRows));
    }

    private KMeansPoints RequireRun(Guid run) =>
        _kmeansRuns.GetValueOrDefault(run) ?? throw new KMeansFailedException(
            $"Shard '{Key}' holds no training points of k-means run {run}: it restarted (its silo left or failed) during the run. Start the run again.");
}
