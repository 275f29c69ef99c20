namespace OrleansVectors.Grains.Tests;

public sealed class TopKMergeTests
{
    [Fact]
    public void Merges_by_metric_with_ties_broken_by_id_and_pads_missing_neighbours()
    {
        var a = NeighborResults.Create([1f, 2f, float.MaxValue], [10, 30, -1], 1, 3);
        var b = NeighborResults.Create([1f, 1.5f, 2f], [5, 7, 1], 1, 3);

        var l2 = TopKMerge.Merge([a, b], 1, 4, VectorMetric.L2, []);
        Assert.Equal(new long[] { 5, 10, 7, 1 }, l2.Labels.ToArray());
        Assert.Equal(new float[] { 1f, 1f, 1.5f, 2f }, l2.Distances.ToArray());

        var ip = TopKMerge.Merge([a, b], 1, 6, VectorMetric.InnerProduct, [2]);
        Assert.Equal(new long[] { 1, 30, 7, 5, 10, -1 }, ip.Labels.ToArray());
        Assert.Equal(-float.MaxValue, ip.Distances[5]);
        Assert.True(ip.IsPartial);
    }
}
