using OrleansVectors.Inference.Faiss;

namespace OrleansVectors.Testing;

/// <summary>
/// Compares an engine's answers with faiss Flat's: distances rank by rank within 1e-5 relative, and the same ids
/// except where distances tie (then the engine's id must truly lie at that distance, and equal distances come in
/// ascending id order).
/// </summary>
public static class EngineAssert
{
    public const double Tolerance = 1e-5;

    public static bool Near(double a, double b) => Math.Abs(a - b) <= Tolerance * Math.Max(1, Math.Max(Math.Abs(a), Math.Abs(b)));

    public static void SameAsFaiss(
        FaissKnnResult expected, FaissKnnResult actual, float[] baseVectors, long[]? ids, float[] queries, int dimension, FaissMetric metric)
    {
        Assert.Equal(expected.QueryCount, actual.QueryCount);
        Assert.Equal(expected.K, actual.K);
        SameAsFaiss(expected.Distances, expected.Labels, actual.Distances, actual.Labels, expected.K, baseVectors, ids, queries, dimension, metric);
    }

    /// <summary>The same check over row-major results of k per query (a cluster's replies).</summary>
    public static void SameAsFaiss(
        ReadOnlySpan<float> expectedDistances, ReadOnlySpan<long> expectedLabels, ReadOnlySpan<float> actualDistances, ReadOnlySpan<long> actualLabels,
        int k, float[] baseVectors, long[]? ids, float[] queries, int dimension, FaissMetric metric)
    {
        Assert.Equal(expectedLabels.Length, actualLabels.Length);
        var idToRow = ids?.Select((id, row) => (id, row)).ToDictionary(p => p.id, p => p.row);
        for (var q = 0; q < expectedLabels.Length / k; q++)
        {
            var want = expectedLabels.Slice(q * k, k);
            var got = actualLabels.Slice(q * k, k);
            var wantDistances = expectedDistances.Slice(q * k, k);
            var gotDistances = actualDistances.Slice(q * k, k);
            var query = queries.AsSpan(q * dimension, dimension);
            var seen = new HashSet<long>();
            for (var j = 0; j < want.Length; j++)
            {
                var where = $"query {q} rank {j}";
                if (want[j] < 0)
                {
                    Assert.True(got[j] == -1, $"{where}: faiss pads with -1, the engine gave {got[j]}");
                    Assert.Equal(wantDistances[j], gotDistances[j]);
                    continue;
                }

                Assert.True(Near(wantDistances[j], gotDistances[j]), $"{where}: distance {gotDistances[j]}, faiss {wantDistances[j]}");
                Assert.True(seen.Add(got[j]), $"{where}: id {got[j]} twice");
                if (got[j] != want[j])
                {
                    var row = idToRow is null ? got[j] : idToRow[got[j]];
                    var truth = BruteForce.Distance(query, baseVectors.AsSpan((int)row * dimension, dimension), metric);
                    Assert.True(Near(truth, wantDistances[j]), $"{where}: id {got[j]} lies at {truth}, not tied with faiss's id {want[j]} at {wantDistances[j]}");
                }

                if (j > 0 && gotDistances[j] == gotDistances[j - 1] && got[j - 1] >= 0)
                {
                    Assert.True(got[j - 1] < got[j], $"{where}: equal distances must come in ascending id order ({got[j - 1]}, {got[j]})");
                }
            }
        }
    }

    /// <summary>Range results as faiss's, as sets per query; a result only one side has must lie at the radius.</summary>
    public static void SameRangeAsFaiss(FaissRangeSearchResult expected, FaissRangeSearchResult actual, float radius) =>
        SameRangeAsFaiss(expected.Offsets, expected.Distances, expected.Labels, actual.Offsets, actual.Distances, actual.Labels, radius);

    /// <summary>The same check over offsets, distances and labels (a cluster's replies).</summary>
    public static void SameRangeAsFaiss(
        ReadOnlySpan<long> expectedOffsets, ReadOnlySpan<float> expectedDistances, ReadOnlySpan<long> expectedLabels,
        ReadOnlySpan<long> actualOffsets, ReadOnlySpan<float> actualDistances, ReadOnlySpan<long> actualLabels, float radius)
    {
        Assert.Equal(expectedOffsets.Length, actualOffsets.Length);
        for (var q = 0; q < expectedOffsets.Length - 1; q++)
        {
            var want = ToMap(expectedOffsets, expectedDistances, expectedLabels, q);
            var got = ToMap(actualOffsets, actualDistances, actualLabels, q);
            foreach (var (id, distance) in want)
            {
                if (got.TryGetValue(id, out var mine))
                {
                    Assert.True(Near(distance, mine), $"query {q} id {id}: distance {mine}, faiss {distance}");
                }
                else
                {
                    Assert.True(Near(distance, radius), $"query {q}: faiss finds id {id} at {distance}, well inside the radius {radius}; the engine does not");
                }
            }

            foreach (var (id, distance) in got.Where(p => !want.ContainsKey(p.Key)))
            {
                Assert.True(Near(distance, radius), $"query {q}: the engine finds id {id} at {distance}, which faiss does not");
            }
        }
    }

    private static Dictionary<long, float> ToMap(ReadOnlySpan<long> offsets, ReadOnlySpan<float> distances, ReadOnlySpan<long> labels, int q)
    {
        var map = new Dictionary<long, float>();
        for (var i = (int)offsets[q]; i < (int)offsets[q + 1]; i++)
        {
            map.Add(labels[i], distances[i]);
        }

        return map;
    }
}
