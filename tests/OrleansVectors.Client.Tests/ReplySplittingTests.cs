namespace OrleansVectors.Client.Tests;

/// <summary>The client cuts queries whose replies would pass the message budget into calls whose replies fit.</summary>
public sealed class ReplySplittingTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private const int D = 8;

    [Fact]
    public async Task Matches_past_one_reply_come_back_whole_in_several_calls()
    {
        var client = new VectorIndexClient(fixture.Client);
        await client.CreateIndexAsync("split-matches", new IndexSpec { Dimension = D, ShardCount = 2 });
        await client.AddAsync("split-matches", TestData.Uniform(10_000, D, seed: 4), D, batchRows: 2000);
        var queries = TestData.Uniform(300, D, seed: 6);

        // one call would carry 300 × 10,000 matches (36 MB): refused by the cluster, split by the client
        await Assert.ThrowsAsync<ReplyTooLargeException>(() => fixture.Client.GetGrain<IQueryGrain>(0).MatchAsync("split-matches", VectorBatch.FromRows(queries, D), 1e30f));
        var matches = await client.MatchAsync("split-matches", queries, D, 1e30f);

        Assert.Equal(300, matches.QueryCount);
        Assert.Equal(3_000_000, matches.Labels.Length);
        var single = await client.MatchAsync("split-matches", queries.AsMemory(299 * D, D), D, 1e30f);
        // the same matches (faiss's batched and single-query distances differ in the last bits, so near-ties may swap)
        var alone = single.LabelsOf(0).ToArray().Zip(single.DistancesOf(0).ToArray()).ToDictionary(m => m.First, m => m.Second);
        var batched = matches.LabelsOf(299).ToArray().Zip(matches.DistancesOf(299).ToArray()).ToDictionary(m => m.First, m => m.Second);
        Assert.Equal(alone.Keys.Order(), batched.Keys.Order());
        Assert.All(alone, m => Assert.Equal(m.Value, batched[m.Key], 1e-4f));
    }

    [Fact]
    public async Task Bad_index_names_are_refused_by_the_client_before_any_call()
    {
        var client = new VectorIndexClient(fixture.Client);
        var error = await Assert.ThrowsAsync<ArgumentException>(() => client.CountAsync("no/slashes"));
        Assert.Equal("name", error.ParamName);
    }

    [Fact]
    public async Task Dropping_an_index_that_does_not_exist_says_so()
    {
        var client = new VectorIndexClient(fixture.Client);
        Assert.False(await client.DropIndexAsync("never-created"));
        await client.CreateIndexAsync("dropped-once", new IndexSpec { Dimension = D });
        Assert.True(await client.DropIndexAsync("dropped-once"));
        Assert.False(await client.DropIndexAsync("dropped-once"));
    }
}
