namespace OrleansVectors.Inference.Faiss;

/// <summary>
/// Every stored vector within a radius of each query, in faiss's layout: the results of query i are
/// positions <c>Offsets[i]</c> to <c>Offsets[i + 1]</c> (exclusive) of <see cref="Distances"/> and
/// <see cref="Labels"/>. Within a query, faiss's engine reports results in index order; the fused CPU and GPU engines
/// sort them best first (ties by label).
/// </summary>
public sealed class FaissRangeSearchResult
{
    internal FaissRangeSearchResult(long[] offsets, float[] distances, long[] labels)
    {
        Offsets = offsets;
        Distances = distances;
        Labels = labels;
    }

    /// <summary>Copies a native result (<c>ovf_range_result</c>) into managed arrays and frees it.</summary>
    internal static unsafe FaissRangeSearchResult TakeNative(nint result, int queryCount)
    {
        try
        {
            NativeFaissMethods.RangeResultSize(result, out var total).ThrowIfFailed();
            var offsets = new long[queryCount + 1];
            var distances = new float[total];
            var labels = new long[total];
            fixed (long* o = offsets)
            fixed (float* d = distances)
            fixed (long* l = labels)
            {
                NativeFaissMethods.RangeResultCopy(result, o, d, l).ThrowIfFailed();
            }

            return new FaissRangeSearchResult(offsets, distances, labels);
        }
        finally
        {
            NativeFaissMethods.RangeResultFree(result);
        }
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
