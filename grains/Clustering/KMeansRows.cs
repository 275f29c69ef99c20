using System.Buffers;
using OrleansVectors.GrainInterfaces;
using OrleansVectors.Inference.Faiss;

namespace OrleansVectors.Grains.Clustering;

/// <summary>What shards and the coordinator share for k-means: reading rows, sampling keys, the centroid index.</summary>
internal static class KMeansRows
{
    /// <summary>
    /// A vector's sampling key under a seed: a 64-bit mix of its global id and the seed. Keys depend on nothing but
    /// the id, so the sample (the points with the smallest keys) is the same however the vectors are sharded.
    /// </summary>
    public static ulong Key(long id, ulong seed)
    {
        // splitmix64's finalizer over the id offset by the seed
        var z = unchecked((ulong)id + (seed * 0x9E3779B97F4A7C15UL) + 0x9E3779B97F4A7C15UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return z ^ (z >> 31);
    }

    /// <summary>The seed of redo <paramref name="redo"/>'s initial centroids, as faiss derives it (seed + 1 + redo × 15486557).</summary>
    public static ulong InitSeed(int seed, int redo) => unchecked((ulong)((long)seed + 1 + (redo * 15486557L)));

    /// <summary>The seed of the training sample.</summary>
    public static ulong SampleSeed(int seed) => unchecked((ulong)(long)seed);

    /// <summary>The <paramref name="take"/> smallest keys (hash, then id), ascending; the arrays are sorted in place.</summary>
    public static (ulong[] Hashes, long[] Ids) Smallest(ulong[] hashes, long[] ids, int take)
    {
        Array.Sort(hashes, ids);

        // equal hashes (rare) in id order, so the order is total
        for (var start = 0; start < hashes.Length;)
        {
            var end = start + 1;
            while (end < hashes.Length && hashes[end] == hashes[start])
            {
                end++;
            }

            if (end - start > 1)
            {
                Array.Sort(ids, start, end - start);
            }

            start = end;
        }

        var count = Math.Min(take, hashes.Length);
        return (hashes[..count], ids[..count]);
    }

    /// <summary>Whether key (<paramref name="hash"/>, <paramref name="id"/>) is at most (<paramref name="maxHash"/>, <paramref name="maxId"/>).</summary>
    public static bool AtMost(ulong hash, long id, ulong maxHash, long maxId) => hash < maxHash || (hash == maxHash && id <= maxId);

    /// <summary>The first <paramref name="rowCount"/> (default: every) stored rows of <paramref name="index"/>, <paramref name="chunk"/> at a time (ids, row-major vectors, rows); the buffers are reused.</summary>
    public static IEnumerable<(long[] Ids, float[] Vectors, int Count)> Read(FaissIndex index, int chunk, long? rowCount = null)
    {
        // pooled: fresh memory is slow to touch on virtual machines, and every pass would take new buffers
        var ids = ArrayPool<long>.Shared.Rent(chunk);
        var vectors = ArrayPool<float>.Shared.Rent(chunk * index.Dimension);
        try
        {
            var total = rowCount ?? index.Count;
            for (long offset = 0; offset < total; offset += chunk)
            {
                var rows = (int)Math.Min(chunk, total - offset);
                try
                {
                    index.ReadRows(offset, ids.AsSpan(0, rows), vectors.AsSpan(0, rows * index.Dimension));
                }
                catch (FaissException e)
                {
                    throw new InvalidOperationException(
                        $"k-means reads the stored vectors back, and this index type cannot give them ({e.Message}): cluster an index of a Flat, SQ or PQ type.", e);
                }

                yield return (ids, vectors, rows);
            }
        }
        finally
        {
            ArrayPool<long>.Shared.Return(ids);
            ArrayPool<float>.Shared.Return(vectors);
        }
    }

    /// <summary>An exact index over the centroids: L2, or inner product for spherical k-means (as faiss's Kmeans).</summary>
    public static FaissIndex CentroidIndex(VectorBatch centroids, bool spherical)
    {
        var index = FaissIndex.Create(centroids.Dimension, "Flat", spherical ? FaissMetric.InnerProduct : FaissMetric.L2);
        index.Add(centroids.Values);
        return index;
    }
}

/// <summary>A run's training points on one shard: ids and row-major vectors, in arrays sized once.</summary>
internal sealed class KMeansPoints
{
    private readonly long[] _ids;
    private readonly float[] _vectors;

    /// <summary>Room for <paramref name="capacity"/> points; memory is touched only as points are added.</summary>
    public KMeansPoints(int dimension, int capacity)
        : this(dimension, GC.AllocateUninitializedArray<long>(capacity), GC.AllocateUninitializedArray<float>(capacity * dimension), 0)
    {
    }

    private KMeansPoints(int dimension, long[] ids, float[] vectors, int count)
    {
        Dimension = dimension;
        _ids = ids;
        _vectors = vectors;
        Count = count;
    }

    public int Dimension { get; }

    public int Count { get; private set; }

    public ReadOnlySpan<long> Ids => _ids.AsSpan(0, Count);

    public void Add(long id, ReadOnlySpan<float> vector)
    {
        vector.CopyTo(_vectors.AsSpan(Count * Dimension));
        _ids[Count++] = id;
    }

    public ReadOnlySpan<float> Vector(int position) => _vectors.AsSpan(position * Dimension, Dimension);

    public ReadOnlySpan<float> Rows(int offset, int count) => _vectors.AsSpan(offset * Dimension, count * Dimension);

    /// <summary>The points of <paramref name="ids"/> (all of them here), in that order.</summary>
    public KMeansPoints Select(long[] ids)
    {
        var position = new Dictionary<long, int>(Count);
        for (var i = 0; i < Count; i++)
        {
            position[_ids[i]] = i;
        }

        var selected = new KMeansPoints(Dimension, ids.Length);
        foreach (var id in ids)
        {
            selected.Add(id, Vector(position[id]));
        }

        return selected;
    }

    /// <summary>The first <paramref name="count"/> points, sharing these arrays.</summary>
    public KMeansPoints Take(int count) => new(Dimension, _ids, _vectors, Math.Min(count, Count));
}

/// <summary>
/// A shard's k-means runs: each run's row count and sample size between sampling and preparing, then its training
/// points. A run whose coordinator vanished never ends, so only the newest few are kept.
/// </summary>
internal sealed class KMeansRuns
{
    private const int MaxRuns = 4;
    private readonly List<(Guid Run, long Rows, int Take, KMeansPoints? Points)> _runs = [];

    /// <summary>Sampling began: the run covers the first <paramref name="rows"/> rows and samples at most <paramref name="take"/> of them here.</summary>
    public void Begin(Guid run, long rows, int take)
    {
        End(run);
        _runs.Add((run, rows, take, null));
        if (_runs.Count > MaxRuns)
        {
            _runs.RemoveAt(0);
        }
    }

    /// <summary>The rows and sample size recorded by <see cref="Begin"/>, or null when the run is unknown here.</summary>
    public (long Rows, int Take)? Extent(Guid run) => IndexOf(run) is var at and >= 0 ? (_runs[at].Rows, _runs[at].Take) : null;

    /// <summary>The run's training points are ready (the run is known here: <see cref="Extent"/> said so).</summary>
    public void Prepared(Guid run, KMeansPoints points)
    {
        var at = IndexOf(run);
        if (at >= 0)
        {
            _runs[at] = _runs[at] with { Points = points };
        }
    }

    /// <summary>The run's training points, or null when the run is unknown here (or not prepared).</summary>
    public KMeansPoints? Points(Guid run) => IndexOf(run) is var at and >= 0 ? _runs[at].Points : null;

    /// <summary>Forgets a run.</summary>
    public void End(Guid run) => _runs.RemoveAll(r => r.Run == run);

    private int IndexOf(Guid run) => _runs.FindIndex(r => r.Run == run);
}

/// <summary>Every vector of a shard with its nearest centroid, for one run's centroids and one state of the shard.</summary>
internal sealed class KMeansAssignment
{
    private readonly long[] _ids;
    private readonly int[] _clusters;

    private KMeansAssignment(Guid run, long version, long[] ids, int[] clusters)
    {
        Run = run;
        Version = version;
        _ids = ids;
        _clusters = clusters;
    }

    public Guid Run { get; }

    /// <summary>The shard core's <see cref="Shards.ShardCore.Version"/> when it was computed.</summary>
    public long Version { get; }

    /// <summary>Assigns every row of <paramref name="index"/>; runs on a faiss worker.</summary>
    public static KMeansAssignment Compute(Guid run, long version, FaissIndex index, VectorBatch centroids, bool spherical, int chunk)
    {
        using var nearest = KMeansRows.CentroidIndex(centroids, spherical);
        var rows = index.Count;
        var ids = new long[rows];
        var clusters = new int[rows];
        var labels = new long[chunk];
        var distances = new float[chunk];
        var done = 0;
        foreach (var (rowIds, vectors, count) in KMeansRows.Read(index, chunk, rows))
        {
            nearest.Search(vectors.AsSpan(0, count * index.Dimension), 1, distances, labels);
            rowIds.AsSpan(0, count).CopyTo(ids.AsSpan(done));
            for (var i = 0; i < count; i++)
            {
                clusters[done + i] = (int)labels[i];
            }

            done += count;
        }

        Array.Sort(ids, clusters);
        return new KMeansAssignment(run, version, ids, clusters);
    }

    /// <summary>The nearest centroid of <paramref name="id"/>, or -1 when the shard does not hold it.</summary>
    public int ClusterOf(long id) => Array.BinarySearch(_ids, id) is var at and >= 0 ? _clusters[at] : -1;

    /// <summary>The ids whose nearest centroid is <paramref name="cluster"/>, ascending.</summary>
    public long[] Members(int cluster) => [.. _ids.Where((_, i) => _clusters[i] == cluster)];

    /// <summary>How many of the vectors (those in <paramref name="only"/>, or all) each centroid has.</summary>
    public long[] Sizes(int k, HashSet<long>? only)
    {
        var sizes = new long[k];
        for (var i = 0; i < _ids.Length; i++)
        {
            if (only?.Contains(_ids[i]) != false)
            {
                sizes[_clusters[i]]++;
            }
        }

        return sizes;
    }
}
