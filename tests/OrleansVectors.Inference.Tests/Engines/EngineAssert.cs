using OrleansVectors.Inference.Faiss;
using OrleansVectors.Inference.Tests.Support;

namespace OrleansVectors.Inference.Tests.Engines;

/// <summary>
/// Compares an engine's answers with faiss Flat's: distances rank by rank within 1e-5 relative, and the same ids
/// except where distances tie (then the engine's id must truly lie at that distance, and equal distances come in
/// ascending id order).
/// </summary>
internal static class EngineAssert
{
    public const double Tolerance = 1e-5;

    public static bool Near(double a, double b) => Math.Abs(a - b) <= Tolerance * Math.Max(1, Math.Max(Math.Abs(a), Math.Abs(b)));

    public static void SameAsFaiss(
        FaissKnnResult expected, FaissKnnResult actual, float[] baseVectors, long[]? ids, float[] queries, int dimension, FaissMetric metric)
    {
        Assert.Equal(expected.QueryCount, actual.QueryCount);
        var idToRow = ids?.Select((id, row) => (id, row)).ToDictionary(p => p.id, p => p.row);
        for (var q = 0; q < expected.QueryCount; q++)
        {
            var want = expected.LabelsOf(q);
            var got = actual.LabelsOf(q);
            var wantDistances = expected.DistancesOf(q);
            var gotDistances = actual.DistancesOf(q);
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
    public static void SameRangeAsFaiss(FaissRangeSearchResult expected, FaissRangeSearchResult actual, float radius)
    {
        Assert.Equal(expected.QueryCount, actual.QueryCount);
        for (var q = 0; q < expected.QueryCount; q++)
        {
            var want = ToMap(expected, q);
            var got = ToMap(actual, q);
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

    private static Dictionary<long, float> ToMap(FaissRangeSearchResult result, int q)
    {
        var map = new Dictionary<long, float>();
        var labels = result.LabelsOf(q);
        var distances = result.DistancesOf(q);
        for (var i = 0; i < labels.Length; i++)
        {
            map.Add(labels[i], distances[i]);
        }

        return map;
    }
}
