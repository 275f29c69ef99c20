using OrleansVectors.Inference.Faiss;

namespace OrleansVectors.Testing;

/// <summary>An independent exact k-NN in double precision: the reference faiss's Flat search is checked against.</summary>
public static class BruteForce
{
    public static double Distance(ReadOnlySpan<float> a, ReadOnlySpan<float> b, FaissMetric metric)
    {
        double sum = 0;
        for (var i = 0; i < a.Length; i++)
        {
            sum += metric == FaissMetric.L2 ? (a[i] - (double)b[i]) * (a[i] - (double)b[i]) : a[i] * (double)b[i];
        }

        return sum;
    }

    /// <summary>All (distance, id) pairs of one query over the first <paramref name="count"/> base rows, closest first (ties by id).</summary>
    public static (double Distance, long Id)[] Ranked(float[] baseVectors, int count, ReadOnlySpan<float> query, FaissMetric metric)
    {
        var d = query.Length;
        var ranked = new (double Distance, long Id)[count];
        for (var i = 0; i < count; i++)
        {
            ranked[i] = (Distance(query, baseVectors.AsSpan(i * d, d), metric), i);
        }

        Array.Sort(ranked, (x, y) =>
        {
            var byDistance = metric == FaissMetric.L2 ? x.Distance.CompareTo(y.Distance) : y.Distance.CompareTo(x.Distance);
            return byDistance != 0 ? byDistance : x.Id.CompareTo(y.Id);
        });
        return ranked;
    }
}
