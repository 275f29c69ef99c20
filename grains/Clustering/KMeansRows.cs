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

    /// <summary>The <paramref name="take"/> smallest keys, ascending (ties by id).</summary>
    public static List<(ulong Hash, long Id)> Smallest(List<(ulong Hash, long Id)> keys, int take)
    {
        keys.Sort();
        return keys.Count <= take ? keys : keys.GetRange(0, take);
    }

    /// <summary>Every stored row of <paramref name="index"/>, <paramref name="chunk"/> at a time (ids, row-major vectors, rows); the buffers are reused.</summary>
    public static IEnumerable<(long[] Ids, float[] Vectors, int Count)> Read(FaissIndex index, int chunk, bool withVectors)
    {
        _ = withVectors; // faiss copies ids and vectors together
        var ids = new long[chunk];
        var vectors = new float[chunk * index.Dimension];
        var total = index.Count;
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

    /// <summary>An exact index over the centroids: L2, or inner product for spherical k-means (as faiss's Kmeans).</summary>
    public static FaissIndex CentroidIndex(VectorBatch centroids, bool spherical)
    {
        var index = FaissIndex.Create(centroids.Dimension, "Flat", spherical ? FaissMetric.InnerProduct : FaissMetric.L2);
        index.Add(centroids.Values);
        return index;
    }
}

/// <summary>A run's training points on one shard: ids and row-major vectors.</summary>
internal sealed class KMeansPoints(int dimension)
{
    private readonly List<long> _ids = [];
    private float[] _vectors = new float[dimension * 64];

    public int Dimension { get; } = dimension;

    public int Count => _ids.Count;

    public IReadOnlyList<long> Ids => _ids;

    public void Add(long id, ReadOnlySpan<float> vector)
    {
        if ((_ids.Count + 1) * Dimension > _vectors.Length)
        {
            Array.Resize(ref _vectors, _vectors.Length * 2);
        }

        vector.CopyTo(_vectors.AsSpan(_ids.Count * Dimension));
        _ids.Add(id);
    }

    public ReadOnlySpan<float> Vector(int position) => _vectors.AsSpan(position * Dimension, Dimension);

    public ReadOnlySpan<float> Rows(int offset, int count) => _vectors.AsSpan(offset * Dimension, count * Dimension);

    public Dictionary<long, int> Positions() => _ids.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => p.i);
}

/// <summary>Every vector of a shard with its nearest centroid, for one run's centroids and one state of the shard.</summary>
internal sealed class KMeansAssignment
{
    private readonly long[] _ids;
    private readonly int[] _clusters;

    private KMeansAssignment(Guid run, object version, long[] ids, int[] clusters)
    {
        Run = run;
        Version = version;
        _ids = ids;
        _clusters = clusters;
    }

    public Guid Run { get; }

    /// <summary>The shard's state when it was computed (the state object and its change count).</summary>
    public object Version { get; }

    /// <summary>Assigns every row of <paramref name="index"/>; runs on a faiss worker.</summary>
    public static KMeansAssignment Compute(Guid run, object version, FaissIndex index, VectorBatch centroids, bool spherical, int chunk)
    {
        using var nearest = KMeansRows.CentroidIndex(centroids, spherical);
        var ids = new List<long>();
        var clusters = new List<int>();
        foreach (var (rowIds, vectors, count) in KMeansRows.Read(index, chunk, withVectors: true))
        {
            var result = nearest.Search(vectors.AsSpan(0, count * index.Dimension), 1);
            ids.AddRange(rowIds.AsSpan(0, count));
            for (var i = 0; i < count; i++)
            {
                clusters.Add((int)result.Labels[i]);
            }
        }

        var idArray = ids.ToArray();
        var clusterArray = clusters.ToArray();
        Array.Sort(idArray, clusterArray);
        return new KMeansAssignment(run, version, idArray, clusterArray);
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
