namespace OrleansVectors.Inference.Faiss;

/// <summary>
/// Every stored vector within a radius of each query, in faiss's layout: the results of query i are
/// positions <c>Offsets[i]</c> to <c>Offsets[i + 1]</c> (exclusive) of <see cref="Distances"/> and
/// <see cref="Labels"/>. Within a query, results are in index order, not sorted by distance.
/// </summary>
public sealed class FaissRangeSearchResult
{
    internal FaissRangeSearchResult(long[] offsets, float[] distances, long[] labels)
    {
        Offsets = offsets;
        Distances = distances;
        Labels = labels;
    }

    /// <summary>Number of queries.</summary>
    public int QueryCount => Offsets.Length - 1;

    /// <summary>QueryCount + 1 offsets into <see cref="Distances"/> and <see cref="Labels"/>.</summary>
    public long[] Offsets { get; }

    /// <summary>Distances of all results (squared L2 or inner product).</summary>
    public float[] Distances { get; }

    /// <summary>Labels (ids) of all results.</summary>
    public long[] Labels { get; }

    /// <summary>The distances of the results of query <paramref name="row"/>.</summary>
    public ReadOnlySpan<float> DistancesOf(int row) => Distances.AsSpan(RangeOf(row));

    /// <summary>The labels of the results of query <paramref name="row"/>.</summary>
    public ReadOnlySpan<long> LabelsOf(int row) => Labels.AsSpan(RangeOf(row));

    private Range RangeOf(int row)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, QueryCount);
        return (int)Offsets[row]..(int)Offsets[row + 1];
    }
}
