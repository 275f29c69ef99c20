namespace OrleansVectors.Inference.Faiss;

/// <summary>
/// The k nearest neighbours of each of <see cref="QueryCount"/> queries, row-major. Row i holds the
/// neighbours of query i, closest first. Where fewer than k vectors exist, the remaining labels are -1
/// (their distances are faiss's sentinels: <see cref="float.MaxValue"/> for L2, <c>-float.MaxValue</c> for
/// inner product).
/// </summary>
public sealed class FaissKnnResult
{
    internal FaissKnnResult(int queryCount, int k, float[] distances, long[] labels)
    {
        QueryCount = queryCount;
        K = k;
        Distances = distances;
        Labels = labels;
    }

    /// <summary>Number of queries (rows).</summary>
    public int QueryCount { get; }

    /// <summary>Neighbours per query (columns).</summary>
    public int K { get; }

    /// <summary>All distances, QueryCount × K, row-major: squared L2 or inner product as the index's metric.</summary>
    public float[] Distances { get; }

    /// <summary>All labels (ids), QueryCount × K, row-major; -1 where no neighbour exists.</summary>
    public long[] Labels { get; }

    /// <summary>The distances of query <paramref name="row"/>.</summary>
    public ReadOnlySpan<float> DistancesOf(int row) => Distances.AsSpan(Offset(row), K);

    /// <summary>The labels of query <paramref name="row"/>.</summary>
    public ReadOnlySpan<long> LabelsOf(int row) => Labels.AsSpan(Offset(row), K);

    private int Offset(int row)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, QueryCount);
        return row * K;
    }
}
