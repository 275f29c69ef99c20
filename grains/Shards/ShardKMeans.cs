using System.Buffers;
using OrleansVectors.GrainInterfaces;
using OrleansVectors.Grains.Clustering;

namespace OrleansVectors.Grains.Shards;

/// <summary>
/// A shard's side of k-means (see <see cref="KMeansGrain"/>), over the vectors of a <see cref="ShardCore"/>: sampling
/// keys, the run's training points, the per-iteration map (assign and sum per centroid, with faiss, on the faiss
/// workers), and the final assignment, kept for member lookups while the core's <see cref="ShardCore.Version"/> stays
/// the same. Thread-safe.
/// </summary>
internal sealed class ShardKMeans(ShardCore core)
{
    /// <summary>Rows read from faiss at a time.</summary>
    private const int ChunkRows = 4096;

    /// <summary>Training points searched against the centroids at a time (faiss blocks its own searches alike).</summary>
    private const int SearchRows = 16_384;

    private readonly KMeansRuns _runs = new(); // not thread-safe: locked on itself
    private volatile KMeansAssignment? _assignment;

    /// <summary>
    /// Sampling: how many vectors the shard clusters for the run (all it holds now, or those of <paramref name="ids"/>)
    /// and the <paramref name="take"/> smallest keys among them.
    /// </summary>
    public async Task<KMeansKeys> KeysAsync(Guid generation, Guid run, long[]? ids, ulong seed, int take)
    {
        var index = core.IndexOf(generation);
        var rows = index.Count; // the run's rows: adds that arrive meanwhile are not in it
        lock (_runs)
        {
            _runs.Begin(run, rows, take);
        }

        return await core.RunOnFaissWorkerAsync(() =>
        {
            var filter = ids is null ? null : new HashSet<long>(ids);
            var hashes = GC.AllocateUninitializedArray<ulong>((int)rows);
            var held = GC.AllocateUninitializedArray<long>((int)rows);
            var count = 0;
            foreach (var (rowIds, _, chunk) in KMeansRows.Read(index, ChunkRows, rows))
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
        }).ConfigureAwait(false);
    }

    /// <summary>Keeps the run's training points (keys up to the threshold) in memory; returns how many.</summary>
    /// <exception cref="KMeansFailedException">The run is unknown here: the shard restarted during it.</exception>
    public async Task<long> PrepareAsync(Guid generation, Guid run, long[]? ids, ulong seed, ulong thresholdHash, long thresholdId)
    {
        var index = core.IndexOf(generation);
        (long Rows, int Take)? extent;
        lock (_runs)
        {
            extent = _runs.Extent(run);
        }

        var (rows, take) = extent ?? throw RunLost(run);
        var points = await core.RunOnFaissWorkerAsync(() =>
        {
            var filter = ids is null ? null : new HashSet<long>(ids);
            // at most `take` keys of this shard can be at most the threshold (it sent its `take` smallest)
            var kept = new KMeansPoints(index.Dimension, (int)Math.Min(rows, take));
            foreach (var (rowIds, vectors, chunk) in KMeansRows.Read(index, ChunkRows, rows))
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
        }).ConfigureAwait(false);
        lock (_runs)
        {
            _runs.Prepared(run, points);
        }

        return points.Count;
    }

    /// <summary>The run's training points with the <paramref name="take"/> smallest keys under <paramref name="seed"/>, with their vectors.</summary>
    /// <exception cref="KMeansFailedException">The run is unknown here: the shard restarted during it.</exception>
    public async Task<KMeansSeeds> SeedsAsync(Guid run, ulong seed, int take)
    {
        var points = RequireRun(run);
        return await Task.Run(() =>
        {
            var ids = points.Ids.ToArray();
            var smallest = KMeansRows.Smallest([.. ids.Select(id => KMeansRows.Key(id, seed))], ids, take);
            return smallest.Ids.Length == 0
                ? new KMeansSeeds([], [], null)
                : new KMeansSeeds(smallest.Hashes, smallest.Ids, VectorBatch.FromRows(points.Select(smallest.Ids).Rows(0, smallest.Ids.Length), points.Dimension));
        }).ConfigureAwait(false);
    }

    /// <summary>One iteration's map: assigns the run's training points to their nearest centroid and sums them per centroid.</summary>
    /// <exception cref="KMeansFailedException">The run is unknown here: the shard restarted during it.</exception>
    public async Task<KMeansPartial> StepAsync(Guid run, VectorBatch centroids, bool spherical)
    {
        ArgumentNullException.ThrowIfNull(centroids);
        var points = RequireRun(run);
        return await core.RunOnFaissWorkerAsync(() =>
        {
            var sums = ArrayPool<double>.Shared.Rent(centroids.Count * centroids.Dimension);
            Array.Clear(sums);
            var counts = new long[centroids.Count];
            var objective = 0.0;
            using var nearest = KMeansRows.CentroidIndex(centroids, spherical);
            var labels = ArrayPool<long>.Shared.Rent(SearchRows);
            var distances = ArrayPool<float>.Shared.Rent(SearchRows);
            for (var offset = 0; offset < points.Count; offset += SearchRows)
            {
                var rows = Math.Min(SearchRows, points.Count - offset);
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

            ArrayPool<long>.Shared.Return(labels);
            ArrayPool<float>.Shared.Return(distances);
            var partial = new KMeansPartial(sums.AsSpan(0, centroids.Count * centroids.Dimension), counts, objective);
            ArrayPool<double>.Shared.Return(sums);
            return partial;
        }).ConfigureAwait(false);
    }

    /// <summary>
    /// The final pass: assigns every vector (counting those of <paramref name="ids"/>, or all) to its nearest
    /// centroid, keeps the assignment under <paramref name="run"/> when <paramref name="store"/>, and returns the count
    /// per centroid. Ends the run's sampling state.
    /// </summary>
    public async Task<long[]> AssignAsync(Guid generation, Guid run, long[]? ids, VectorBatch centroids, bool spherical, bool store)
    {
        ArgumentNullException.ThrowIfNull(centroids);
        End(run);
        var version = core.Version; // first: a change between the two reads leaves the assignment marked stale, never current
        var index = core.IndexOf(generation);
        var assignment = await core.RunOnFaissWorkerAsync(() => KMeansAssignment.Compute(run, version, index, centroids, spherical, ChunkRows)).ConfigureAwait(false);
        if (store)
        {
            _assignment = assignment;
        }

        return assignment.Sizes(centroids.Count, ids is null ? null : new HashSet<long>(ids));
    }

    /// <summary>Forgets a run's sampling state and training points.</summary>
    public void End(Guid run)
    {
        lock (_runs)
        {
            _runs.End(run);
        }
    }

    /// <summary>The cluster of each of <paramref name="ids"/> (-1 for an id the shard does not hold).</summary>
    public async Task<int[]> LookupAsync(Guid generation, Guid run, VectorBatch centroids, bool spherical, long[] ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var assignment = await CurrentAssignmentAsync(generation, run, centroids, spherical).ConfigureAwait(false);
        return [.. ids.Select(assignment.ClusterOf)];
    }

    /// <summary>The ids of one cluster, ascending.</summary>
    public async Task<long[]> MembersAsync(Guid generation, Guid run, VectorBatch centroids, bool spherical, int cluster) =>
        (await CurrentAssignmentAsync(generation, run, centroids, spherical).ConfigureAwait(false)).Members(cluster);

    /// <summary>The kept assignment when it is of this run and the core has not changed since; else computed (and kept) anew.</summary>
    private async Task<KMeansAssignment> CurrentAssignmentAsync(Guid generation, Guid run, VectorBatch centroids, bool spherical)
    {
        ArgumentNullException.ThrowIfNull(centroids);
        var version = core.Version;
        var index = core.IndexOf(generation);
        if (_assignment is { } kept && kept.Run == run && kept.Version == version)
        {
            return kept;
        }

        var assignment = await core.RunOnFaissWorkerAsync(() => KMeansAssignment.Compute(run, version, index, centroids, spherical, ChunkRows)).ConfigureAwait(false);
        _assignment = assignment;
        return assignment;
    }

    private KMeansPoints RequireRun(Guid run)
    {
        lock (_runs)
        {
            return _runs.Points(run) ?? throw RunLost(run);
        }
    }

    private KMeansFailedException RunLost(Guid run) =>
        new($"Shard '{core.Name}' holds no training points of k-means run {run}: it restarted (its silo left or failed) during the run. Start the run again.");
}
