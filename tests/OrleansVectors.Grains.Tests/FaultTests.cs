using OrleansVectors.GrainInterfaces;
using OrleansVectors.Inference.Tests.Support;

namespace OrleansVectors.Grains.Tests;

/// <summary>
/// A silo leaves mid-load. What holds today: calls that need the lost shard fail with an error naming it, and
/// indexes whose shards live elsewhere keep serving. What is not recovered yet: the lost shard's vectors
/// (they live in silo memory until snapshots and the write-ahead log exist), so its index keeps failing rather
/// than answering from a partial index — unless a caller asks for partial answers.
/// </summary>
public sealed class FaultTests : IClassFixture<ClusterFixture>
{
    private const int D = 8;
    private readonly ClusterFixture _fixture;

    public FaultTests(ClusterFixture fixture) => _fixture = fixture;

    [Fact]
    public async Task Stopping_a_silo_fails_affected_calls_clearly_and_the_rest_keeps_serving()
    {
        var spread = _fixture.Index("spread");
        await spread.CreateAsync(new IndexSpec { Dimension = D, ShardCount = 3 });
        var single = _fixture.Index("single");
        await single.CreateAsync(new IndexSpec { Dimension = D, ShardCount = 1 });
        var vectors = TestData.Uniform(300, D, seed: 1);
        await TestVectors.AddAll(spread, vectors, D, batchSize: 50);
        await TestVectors.AddAll(single, vectors, D, batchSize: 100);
        var query = TestVectors.Batch(vectors, D, 0, 5);
        var singleBefore = await _fixture.Query.SearchAsync("single", query, 3);

        // stop a silo (not the primary) that holds a shard of "spread" and no shard of "single", while adds run
        var singleSilo = (await single.DescribeAsync()).Shards[0].Silo;
        var spreadShards = (await spread.DescribeAsync()).Shards;
        var victim = _fixture.Cluster.Silos.Skip(1).First(s => s.SiloAddress.ToString() != singleSilo);
        var lostShard = spreadShards.First(s => s.Silo == victim.SiloAddress.ToString()).Shard;
        using var loading = new CancellationTokenSource();
        var load = Task.Run(async () =>
        {
            var failures = 0;
            for (var i = 0; !loading.IsCancellationRequested && i < 200; i++)
            {
                try
                {
                    await spread.AddAsync(TestVectors.Batch(vectors, D, 0, 10));
                }
                catch (Exception)
                {
                    failures++;
                }
            }

            return failures;
        });
        await _fixture.Cluster.StopSiloAsync(victim);
        await loading.CancelAsync();
        await load;

        // the affected index fails, naming the shard
        var error = await Assert.ThrowsAsync<ShardUnavailableException>(() => _fixture.Query.SearchAsync("spread", query, 3));
        Assert.Equal(lostShard, error.Shard);
        Assert.Contains($"Shard {lostShard} of index 'spread'", error.Message, StringComparison.Ordinal);

        // with partial answers allowed, the other shards answer, flagged
        var partial = await _fixture.Query.SearchAsync("spread", query, 3, new QueryOptions { AllowPartial = true });
        Assert.True(partial.IsPartial);
        Assert.Equal(new[] { lostShard }, partial.FailedShards);

        // the index on the surviving silos keeps serving, with the same answers
        var singleAfter = await _fixture.Query.SearchAsync("single", query, 3);
        Assert.Equal(singleBefore.Labels.ToArray(), singleAfter.Labels.ToArray());
        await single.AddAsync(TestVectors.Batch(vectors, D, 0, 10));
        Assert.Equal(310, await single.CountAsync());
    }
}
