using OrleansVectors.GrainInterfaces;

namespace OrleansVectors.Grains;

/// <summary>
/// Merges per-shard top-k lists into the global top-k: for each query, every shard's candidates are ranked by
/// distance (ascending for L2, descending for inner product) and then by id, and the first k are kept. Shards
/// hold disjoint ids, so the result is exactly what one index over all the vectors returns (ties aside).
/// </summary>
internal static class TopKMerge
{
    /// <summary>faiss's distance for a missing neighbour (label -1).</summary>
    public static float Sentinel(VectorMetric metric) => metric == VectorMetric.L2 ? float.MaxValue : -float.MaxValue;

    /// <summary>Merges the shard results of <paramref name="queryCount"/> queries into k per query.</summary>
    public static NeighborResults Merge(IReadOnlyList<NeighborResults> shards, int queryCount, int k, VectorMetric metric, int[] failedShards)
    {
        var distances = new float[queryCount * k];
        var labels = new long[queryCount * k];
        var candidates = new List<(float Distance, long Id)>(shards.Count * k);
        var comparer = Comparer(metric);
        for (var q = 0; q < queryCount; q++)
        {
            candidates.Clear();
            foreach (var shard in shards)
            {
                var shardLabels = shard.LabelsOf(q);
                var shardDistances = shard.DistancesOf(q);
                for (var j = 0; j < shardLabels.Length && shardLabels[j] >= 0; j++)
                {
                    candidates.Add((shardDistances[j], shardLabels[j]));
                }
            }

            candidates.Sort(comparer);
            for (var j = 0; j < k; j++)
            {
                (distances[(q * k) + j], labels[(q * k) + j]) = j < candidates.Count ? candidates[j] : (Sentinel(metric), -1L);
            }
        }

        return NeighborResults.Create(distances, labels, queryCount, k, failedShards);
    }

    /// <summary>Merges per-shard range results: each query's results from every shard, sorted closest first (ties by id).</summary>
    public static RangeResults MergeRanges(IReadOnlyList<RangeResults> shards, int queryCount, VectorMetric metric, int[] failedShards)
    {
        var offsets = new long[queryCount + 1];
        var distances = new List<float>();
        var labels = new List<long>();
        var row = new List<(float Distance, long Id)>();
        var comparer = Comparer(metric);
        for (var q = 0; q < queryCount; q++)
        {
            row.Clear();
            foreach (var shard in shards)
            {
                var shardLabels = shard.LabelsOf(q);
                var shardDistances = shard.DistancesOf(q);
                for (var j = 0; j < shardLabels.Length; j++)
                {
                    row.Add((shardDistances[j], shardLabels[j]));
                }
            }

            row.Sort(comparer);
            foreach (var (distance, id) in row)
            {
                distances.Add(distance);
                labels.Add(id);
            }

            offsets[q + 1] = labels.Count;
        }

        return RangeResults.Create(offsets, distances.ToArray(), labels.ToArray(), failedShards);
    }

    private static Comparison<(float Distance, long Id)> Comparer(VectorMetric metric) => metric == VectorMetric.L2
        ? static (a, b) => a.Distance != b.Distance ? a.Distance.CompareTo(b.Distance) : a.Id.CompareTo(b.Id)
        : static (a, b) => a.Distance != b.Distance ? b.Distance.CompareTo(a.Distance) : a.Id.CompareTo(b.Id);
}
