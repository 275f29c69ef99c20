namespace OrleansVectors.Inference.Tests.Faiss;

public sealed class FaissConcurrencyTests
{
    private const int D = 16;
    private const int K = 5;

    [Fact]
    public async Task Eight_searchers_and_one_writer_always_see_a_consistent_index()
    {
        const int initial = 1000;
        const int batches = 40;
        const int batchSize = 25;
        var all = TestData.Uniform(initial + (batches * batchSize), D, seed: 21);
        using var index = FaissIndex.Create(D);
        index.Add(all.AsSpan(0, initial * D));

        var writerDone = 0;
        var writer = Task.Run(() =>
        {
            for (var b = 0; b < batches; b++)
            {
                index.Add(all.AsSpan((initial + (b * batchSize)) * D, batchSize * D));
            }

            Volatile.Write(ref writerDone, 1);
        });

        var searchers = Enumerable.Range(0, 8).Select(s => Task.Run(() =>
        {
            var random = new Random(s);
            var checkedResults = 0;
            while (Volatile.Read(ref writerDone) == 0 || checkedResults < 20)
            {
                var query = TestData.Uniform(1, D, seed: random.Next());
                var before = (int)index.Count;
                var result = index.Search(query, K);
                var after = (int)index.Count;
                CheckResult(all, query, result, before, after, batchSize);
                checkedResults++;
            }

            return checkedResults;
        })).ToArray();

        await writer;
        var counts = await Task.WhenAll(searchers);

        Assert.Equal(initial + (batches * batchSize), index.Count);
        Assert.All(counts, c => Assert.True(c >= 20));
    }

    /// <summary>
    /// A result is valid when it is exactly the top-k of some prefix the index held during the search: adds are
    /// atomic, so the prefix length is a batch boundary between the counts seen before and after.
    /// </summary>
    private static void CheckResult(float[] all, float[] query, FaissKnnResult result, int before, int after, int batchSize)
    {
        for (var prefix = before; prefix <= after; prefix += batchSize)
        {
            var ranked = BruteForce.Ranked(all, prefix, query, FaissMetric.L2);
            if (Enumerable.Range(0, K).All(j => ranked[j].Id == result.Labels[j]))
            {
                for (var j = 0; j < K; j++)
                {
                    ParityAssert.Close(ranked[j].Distance, result.Distances[j], 1e-4, $"distance {j}");
                }

                return;
            }
        }

        Assert.Fail($"the result [{string.Join(", ", result.Labels)}] is the top-{K} of no prefix between {before} and {after} vectors");
    }
}
