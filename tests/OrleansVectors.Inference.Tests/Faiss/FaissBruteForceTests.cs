namespace OrleansVectors.Inference.Tests.Faiss;

/// <summary>Flat search against an independent exact search in double precision.</summary>
public sealed class FaissBruteForceTests
{
    [Theory]
    [InlineData(FaissMetric.L2, 16, 1)]
    [InlineData(FaissMetric.L2, 64, 10)]
    [InlineData(FaissMetric.InnerProduct, 64, 10)]
    [InlineData(FaissMetric.InnerProduct, 7, 50)]
    public void Flat_search_agrees_with_brute_force(FaissMetric metric, int dimension, int k)
    {
        const int count = 2500;
        var baseVectors = TestData.Uniform(count, dimension, seed: 100 + dimension);
        var queries = TestData.Uniform(40, dimension, seed: 200 + dimension);
        using var index = FaissIndex.Create(dimension, "Flat", metric);
        index.Add(baseVectors);

        var result = index.Search(queries, k);

        for (var q = 0; q < 40; q++)
        {
            var expected = BruteForce.Ranked(baseVectors, count, queries.AsSpan(q * dimension, dimension), metric);
            for (var j = 0; j < k; j++)
            {
                Assert.Equal(expected[j].Id, result.LabelsOf(q)[j]);
                ParityAssert.Close(expected[j].Distance, result.DistancesOf(q)[j], 1e-4, $"query {q} rank {j}");
            }
        }
    }

    [Fact]
    public void K_larger_than_the_index_pads_with_minus_one()
    {
        using var index = FaissIndex.Create(4);
        index.Add(TestData.Uniform(3, 4, seed: 1));

        var result = index.Search(TestData.Uniform(2, 4, seed: 2), 5);

        Assert.Equal(new long[] { -1, -1 }, result.LabelsOf(0)[3..].ToArray());
        Assert.All(result.LabelsOf(1)[..3].ToArray(), id => Assert.InRange(id, 0, 2));
        Assert.Equal(float.MaxValue, result.DistancesOf(0)[4]);
    }

    [Fact]
    public void Caller_buffers_receive_the_same_results_as_the_allocating_search()
    {
        var baseVectors = TestData.Uniform(500, 8, seed: 3);
        var queries = TestData.Uniform(10, 8, seed: 4);
        using var index = FaissIndex.Create(8);
        index.Add(baseVectors);
        var distances = new float[10 * 3];
        var labels = new long[10 * 3];

        index.Search(queries, 3, distances, labels);

        var expected = index.Search(queries, 3);
        Assert.Equal(expected.Labels, labels);
        Assert.Equal(expected.Distances, distances);
    }

    [Fact]
    public void Two_dimensional_arrays_are_searched_row_by_row()
    {
        using var index = FaissIndex.Create(2);
        index.Add(new float[,] { { 0, 0 }, { 10, 10 }, { 5, 5 } });

        var result = index.Search(new float[,] { { 9, 9 }, { 1, 1 } }, 1);

        Assert.Equal(new long[] { 1, 0 }, result.Labels);
        Assert.Equal(new float[] { 2, 2 }, result.Distances);
    }

    [Fact]
    public void Library_reports_faiss_version_and_thread_count()
    {
        Assert.Equal(new Version(1, 7, 3), FaissLibrary.Version);
        Assert.True(FaissLibrary.ThreadCount >= 1);
    }
}
