namespace OrleansVectors.Grains.Tests;

/// <summary>Cluster results equal one faiss index over the same vectors.</summary>
[Collection(SharedCluster.Name)]
public sealed class ExactnessTests(ClusterFixture fixture)
{
    private const int D = 16;
    private const int Count = 700; // 8 shards hold ~88 each: k=100 exceeds their counts

    public static TheoryData<int, VectorMetric> Shapes => new()
    {
        { 1, VectorMetric.L2 }, { 3, VectorMetric.L2 }, { 8, VectorMetric.L2 },
        { 1, VectorMetric.InnerProduct }, { 3, VectorMetric.InnerProduct }, { 8, VectorMetric.InnerProduct },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public async Task Sharded_search_equals_a_single_faiss_index(int shards, VectorMetric metric)
    {
        var name = $"exact-{shards}-{metric}";
        var vectors = TestData.Uniform(Count, D, seed: shards);
        var queries = TestData.Uniform(40, D, seed: 100 + shards);
        var index = fixture.Index(name);
        await index.CreateAsync(new IndexSpec { Dimension = D, Metric = metric, ShardCount = shards });
        var receipts = await TestVectors.AddAll(fixture, index, vectors, D, batchSize: 50);
        Assert.Equal(Enumerable.Range(0, Count / 50).Select(i => i * 50L), receipts.Select(r => r.FirstId));

        using var reference = FaissIndex.Create(D, "Flat", metric == VectorMetric.L2 ? FaissMetric.L2 : FaissMetric.InnerProduct);
        reference.Add(vectors);

        foreach (var k in new[] { 1, 10, 100 })
        {
            var cluster = await fixture.Query.SearchAsync(name, VectorBatch.FromRows(queries, D), k);
            var single = reference.Search(queries, k);

            Assert.False(cluster.IsPartial);
            Assert.Equal(single.QueryCount, cluster.QueryCount);
            for (var q = 0; q < single.QueryCount; q++)
            {
                var expected = single.LabelsOf(q);
                var actual = cluster.LabelsOf(q);
                for (var j = 0; j < k; j++)
                {
                    var e = single.DistancesOf(q)[j];
                    var a = cluster.DistancesOf(q)[j];
                    Assert.True(Math.Abs(e - a) <= 1e-5 * Math.Max(1, Math.Abs(e)), $"k={k} query {q} rank {j}: distance {a}, expected {e}");
                    if (expected[j] != actual[j])
                    {
                        // only a tie may reorder ids
                        Assert.Contains(actual[j], expected.ToArray());
                        Assert.True(Math.Abs(single.DistancesOf(q)[expected.IndexOf(actual[j])] - e) <= 1e-5 * Math.Max(1, Math.Abs(e)));
                    }
                }
            }
        }
    }

    [Fact]
    public async Task K_larger_than_the_index_pads_with_minus_one()
    {
        var index = fixture.Index("small");
        await index.CreateAsync(new IndexSpec { Dimension = 4, ShardCount = 3 });
        await fixture.AddAsync(index, VectorBatch.FromRows(TestData.Uniform(5, 4, seed: 1), 4));

        var result = await fixture.Query.SearchAsync("small", VectorBatch.FromRows(TestData.Uniform(1, 4, seed: 2), 4), 8);

        Assert.Equal(new long[] { -1, -1, -1 }, result.LabelsOf(0)[5..].ToArray());
        Assert.Equal(Enumerable.Range(0, 5).Select(i => (long)i), result.LabelsOf(0)[..5].ToArray().Order());
    }

    [Fact]
    public async Task Threshold_matches_equal_a_single_index_range_search_sorted_closest_first()
    {
        var vectors = TestData.Uniform(600, D, seed: 7);
        var queries = TestData.Uniform(20, D, seed: 8);
        var index = fixture.Index("matches");
        await index.CreateAsync(new IndexSpec { Dimension = D, ShardCount = 4, MatchThreshold = 3.5 });
        await TestVectors.AddAll(fixture, index, vectors, D, batchSize: 100);
        using var reference = FaissIndex.Create(D);
        reference.Add(vectors);

        var cluster = await fixture.Query.MatchAsync("matches", VectorBatch.FromRows(queries, D));
        var single = reference.RangeSearch(queries, 3.5f);

        Assert.True(cluster.Labels.Length > 20);
        for (var q = 0; q < 20; q++)
        {
            // BLAS rounds differently over different subsets, so compare per id within float tolerance
            var expected = single.LabelsOf(q).ToArray().Zip(single.DistancesOf(q).ToArray()).ToDictionary(p => p.First, p => p.Second);
            var ids = cluster.LabelsOf(q).ToArray();
            var distances = cluster.DistancesOf(q).ToArray();
            Assert.Equal(expected.Keys.Order(), ids.Order());
            Assert.All(ids.Zip(distances), p => Assert.True(Math.Abs(expected[p.First] - p.Second) <= 1e-5 * Math.Max(1, p.Second)));
            Assert.True(distances.SequenceEqual(distances.Order()), "results are sorted closest first");
        }
    }

    [Fact]
    public async Task Ivf_shards_keep_global_ids_and_remove_them()
    {
        var vectors = TestData.Uniform(800, D, seed: 21);
        var index = fixture.Index("ivf");
        await index.CreateAsync(new IndexSpec { Dimension = D, Factory = "IVF8,Flat", ShardCount = 2 });
        await TestVectors.AddAll(fixture, index, vectors, D, batchSize: 400); // each shard trains on its first batch
        var probeAll = new QueryOptions { NProbe = 8 };
        var self = await fixture.Query.SearchAsync("ivf", TestVectors.Batch(vectors, D, 0, 800), 1, probeAll);
        Assert.Equal(Enumerable.Range(0, 800).Select(i => (long)i), self.Labels.ToArray());

        Assert.Equal(2, await index.RemoveAsync([3, 500]));
        var after = await fixture.Query.SearchAsync("ivf", TestVectors.Batch(vectors, D, 3, 1), 1, probeAll);
        Assert.NotEqual(3, after.Labels[0]);
        Assert.Equal(798, await index.CountAsync());
    }
}
