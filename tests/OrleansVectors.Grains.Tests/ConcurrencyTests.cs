using System.Collections.Concurrent;

namespace OrleansVectors.Grains.Tests;

[Collection(SharedCluster.Name)]
public sealed class ConcurrencyTests(ClusterFixture fixture)
{
    private const int D = 8;
    private const int K = 5;

    [Fact]
    public async Task Sixteen_searchers_and_two_writers_see_valid_merges_and_their_own_writes()
    {
        const string name = "concurrent";
        var index = fixture.Index(name);
        await index.CreateAsync(new IndexSpec { Dimension = D, ShardCount = 4 });
        await fixture.AddAsync(index, VectorBatch.FromRows(TestData.Uniform(200, D, seed: 1), D), Enumerable.Range(0, 200).Select(i => (long)i).ToArray());

        // every vector ever added, by id, so any result can be checked exactly
        var known = new ConcurrentDictionary<long, float[]>();
        var initial = TestData.Uniform(200, D, seed: 1);
        for (var i = 0; i < 200; i++)
        {
            known[i] = initial.AsSpan(i * D, D).ToArray();
        }

        var acknowledged = new ConcurrentDictionary<long, bool>(Enumerable.Range(0, 200).Select(i => KeyValuePair.Create((long)i, true)));
        using var stop = new CancellationTokenSource();

        var writers = Enumerable.Range(0, 2).Select(w => Task.Run(async () =>
        {
            for (var b = 0; b < 15; b++)
            {
                var ids = Enumerable.Range(0, 10).Select(i => 10_000L + (w * 1_000) + (b * 10) + i).ToArray();
                var values = TestData.Uniform(10, D, seed: 1000 + (w * 100) + b);
                for (var i = 0; i < 10; i++)
                {
                    known[ids[i]] = values.AsSpan(i * D, D).ToArray();
                }

                await fixture.AddAsync(index, VectorBatch.FromRows(values, D), ids);
                foreach (var id in ids)
                {
                    acknowledged[id] = true;
                }

                // read-your-writes: each acknowledged vector is its own nearest neighbour
                var mine = await fixture.Query.SearchAsync(name, VectorBatch.FromRows(values, D), 1);
                Assert.Equal(ids, mine.Labels.ToArray());
            }
        })).ToArray();

        var searchers = Enumerable.Range(0, 16).Select(s => Task.Run(async () =>
        {
            var checkedCount = 0;
            while (!stop.IsCancellationRequested || checkedCount < 5)
            {
                var query = TestData.Uniform(1, D, seed: (s * 7919) + checkedCount);
                var before = acknowledged.Keys.ToArray();
                var result = await fixture.Query.SearchAsync(name, VectorBatch.FromRows(query, D), K);
                Check(query, result, before, known);
                checkedCount++;
            }

            return checkedCount;
        })).ToArray();

        await Task.WhenAll(writers);
        await stop.CancelAsync();
        var counts = await Task.WhenAll(searchers);

        Assert.Equal(500, await index.CountAsync());
        Assert.All(counts, c => Assert.True(c >= 5));
    }

    /// <summary>
    /// A valid merge: ids are known, distances are their true distances, sorted, and no vector acknowledged
    /// before the search began is closer than the k-th result without being in it.
    /// </summary>
    private static void Check(float[] query, NeighborResults result, long[] acknowledgedBefore, ConcurrentDictionary<long, float[]> known)
    {
        var ids = result.Labels.ToArray();
        var distances = result.Distances.ToArray();
        Assert.All(ids, id => Assert.True(known.ContainsKey(id), $"unknown id {id}"));
        for (var j = 0; j < K; j++)
        {
            Assert.True(Math.Abs(Distance(query, known[ids[j]]) - distances[j]) <= 1e-4, $"id {ids[j]} reported at {distances[j]}");
        }

        Assert.True(distances.SequenceEqual(distances.Order()), "sorted closest first");
        var kth = distances[K - 1];
        foreach (var id in acknowledgedBefore)
        {
            if (Distance(query, known[id]) < kth - 1e-4)
            {
                Assert.Contains(id, ids);
            }
        }
    }

    private static float Distance(float[] a, float[] b)
    {
        var sum = 0f;
        for (var i = 0; i < a.Length; i++)
        {
            sum += (a[i] - b[i]) * (a[i] - b[i]);
        }

        return sum;
    }
}
