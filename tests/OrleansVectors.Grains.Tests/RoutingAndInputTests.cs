namespace OrleansVectors.Grains.Tests;

[Collection(SharedCluster.Name)]
public sealed class RoutingAndInputTests(ClusterFixture fixture)
{
    private const int D = 8;

    [Theory]
    [InlineData(3)]
    [InlineData(8)]
    public async Task Every_shard_gets_batches_and_shards_sit_on_every_silo(int shards)
    {
        var name = $"routing-{shards}";
        var index = fixture.Index(name);
        await index.CreateAsync(new IndexSpec { Dimension = D, ShardCount = shards });
        await TestVectors.AddAll(fixture, index, TestData.Uniform(1000, D, seed: 3), D, batchSize: 30);

        var description = await index.DescribeAsync();

        Assert.Equal(1000, description.Count);
        Assert.Equal(1000, description.Shards.Sum(s => s.Count));
        // a batch's shard is a function of its batch id (so a retry meets the shard that may hold it): spread, not dealt
        Assert.True(description.Shards.Count(s => s.Count > 0) >= shards / 2, "batches spread over the shards");
        var silos = fixture.Cluster.Silos.Select(s => s.SiloAddress.ToString()).ToHashSet();
        Assert.Equal(silos, description.Shards.Select(s => s.Silo).ToHashSet());
    }

    [Fact]
    public async Task A_client_calling_a_shard_grain_directly_is_refused_and_the_index_is_unchanged()
    {
        var index = fixture.Index("internal-calls");
        await index.CreateAsync(new IndexSpec { Dimension = D, ShardCount = 2 });
        await fixture.AddAsync(index, VectorBatch.FromRows(TestData.Uniform(10, D, seed: 1), D));
        var queries = VectorBatch.FromRows(TestData.Uniform(2, D, seed: 2), D);
        var before = await fixture.Query.SearchAsync("internal-calls", queries, 3);

        // the shard map (it carries the generation) is internal too, on the index grain's cluster-side interface; the spec is public
        await Assert.ThrowsAsync<UnauthorizedAccessException>(() => fixture.Client.GetGrain<IIndexClusterGrain>("internal-calls").GetShardMapAsync());
        Assert.Equal(2, (await index.GetSpecAsync()).ShardCount);
        var wide = await Assert.ThrowsAsync<ArgumentException>(() => fixture.Index("too-wide").CreateAsync(new IndexSpec { Dimension = 20_000_000 }));
        Assert.Contains("Dimension must be between 1 and 65536; got 20000000", wide.Message, StringComparison.Ordinal);

        var shard = fixture.Client.GetGrain<IShardGrain>("internal-calls/0");
        foreach (var call in new Func<Task>[]
        {
            () => shard.InitializeAsync(new IndexSpec { Dimension = D, ShardCount = 2 }, Guid.NewGuid()),
            () => shard.DescribeAsync(),
        })
        {
            var refused = await Assert.ThrowsAsync<UnauthorizedAccessException>(call);
            Assert.Contains("IShardGrain", refused.Message, StringComparison.Ordinal);
            Assert.Contains("internal to the cluster", refused.Message, StringComparison.Ordinal);
        }

        // grains still call shards; the index answers as before
        Assert.Equal(10, await index.CountAsync());
        var after = await fixture.Query.SearchAsync("internal-calls", queries, 3);
        Assert.Equal(before.Labels.ToArray(), after.Labels.ToArray());
    }

    [Theory]
    [InlineData("PQ0", 4, "PQ sub-quantizer count")]
    [InlineData("IVF0,Flat", 4, "IVF list count must be between 1 and 1048576; got 0")]
    [InlineData("HNSW1", 4, "HNSW neighbour count must be between 4 and 128; got 1")]
    [InlineData("IVF1048576,Flat", 256, "OrleansVectors:CreateMemoryBudget")]
    public async Task Hostile_factory_strings_are_refused_at_create_and_every_silo_stays_up(string factory, int shards, string reason)
    {
        var index = fixture.Index($"hostile-{shards}-{factory.Replace(',', '-')}");
        var error = await Assert.ThrowsAsync<ArgumentException>(() => index.CreateAsync(new IndexSpec { Dimension = 128, Factory = factory, ShardCount = shards }));
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAnyAsync<Exception>(() => index.DescribeAsync()); // nothing was created
        Assert.Equal(fixture.Cluster.Silos.Count, (await fixture.Client.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true)).Count);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a/b")]
    [InlineData("-leading-dash")]
    [InlineData("bad\nname forged: log line")]
    [InlineData("ünïcode")]
    [InlineData("x0123456789012345678901234567890123456789012345678901234567890123")] // 65 characters
    public async Task Index_names_outside_the_set_are_refused_everywhere_with_the_rule(string name)
    {
        var queries = VectorBatch.FromRows(TestData.Uniform(2, D, seed: 2), D);
        var calls = new List<Func<Task>>
        {
            () => fixture.Query.SearchAsync(name, queries, 3),
            () => fixture.Query.MatchAsync(name, queries, 1f),
            () => fixture.Client.GetGrain<IIngestGrain>(0).AddAsync(name, new AddRequest(Guid.NewGuid(), queries)),
        };
        if (name.Length > 0)
        {
            // (an empty grain key is refused by Orleans itself, before any call)
            calls.Add(() => fixture.Index(name).CreateAsync(new IndexSpec { Dimension = D }));
        }

        foreach (var call in calls)
        {
            var error = await Assert.ThrowsAsync<ArgumentException>(call);
            Assert.Contains("Index names are 1 to 64 ASCII letters", error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', error.Message);
        }
    }

    [Fact]
    public async Task Options_and_thresholds_outside_the_ranges_that_work_are_refused()
    {
        var index = fixture.Index("option-ranges");
        await index.CreateAsync(new IndexSpec { Dimension = D, ShardCount = 2 });
        await fixture.AddAsync(index, VectorBatch.FromRows(TestData.Uniform(10, D, seed: 1), D));
        var queries = VectorBatch.FromRows(TestData.Uniform(2, D, seed: 2), D);

        var timeout = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => fixture.Query.SearchAsync("option-ranges", queries, 3, new QueryOptions { ShardTimeout = TimeSpan.FromDays(100) }));
        Assert.Contains("ShardTimeout must be positive and at most 10 minutes", timeout.Message, StringComparison.Ordinal);
        var concurrency = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => fixture.Query.SearchAsync("option-ranges", queries, 3, new QueryOptions { MaxConcurrency = 0 }));
        Assert.Contains("MaxConcurrency must be between 1 and 1024", concurrency.Message, StringComparison.Ordinal);

        var huge = await Assert.ThrowsAsync<ArgumentException>(() => fixture.Index("huge-threshold").CreateAsync(new IndexSpec { Dimension = D, MatchThreshold = 1e300 }));
        Assert.Contains("within ±3.4e+38", huge.Message, StringComparison.Ordinal);
        var negative = await Assert.ThrowsAsync<ArgumentException>(() => fixture.Query.MatchAsync("option-ranges", queries, -1f));
        Assert.Contains("cannot be negative", negative.Message, StringComparison.Ordinal);
        Assert.Equal(10, await index.CountAsync());
    }

    [Fact]
    public async Task Replies_past_the_message_budget_are_refused_with_the_limit_and_the_way_around_it()
    {
        var index = fixture.Index("big-replies");
        await index.CreateAsync(new IndexSpec { Dimension = D, ShardCount = 2 });
        await TestVectors.AddAll(fixture, index, TestData.Uniform(10_000, D, seed: 4), D, batchSize: 2000);

        // 8,192 queries × k = 2,048: refused before any shard searches
        var many = VectorBatch.FromRows(TestData.Uniform(8192, D, seed: 5), D);
        var knn = await Assert.ThrowsAsync<ReplyTooLargeException>(() => fixture.Query.SearchAsync("big-replies", many, QueryOptions.MaxK));
        Assert.Contains("32 MiB a reply may carry", knn.Message, StringComparison.Ordinal);
        Assert.Contains("send at most 1365 queries per call with k = 2048", knn.Message, StringComparison.Ordinal);

        // every vector matches every query: 300 × 10,000 matches, 36 MB
        var wide = VectorBatch.FromRows(TestData.Uniform(300, D, seed: 6), D);
        var match = await Assert.ThrowsAsync<ReplyTooLargeException>(() => fixture.Query.MatchAsync("big-replies", wide, 1e30f));
        Assert.Contains("tighter threshold", match.Message, StringComparison.Ordinal);
        Assert.Equal(300, match.Queries);

        // the index is unchanged and the silos answer
        Assert.Equal(10_000, await index.CountAsync());
        Assert.Equal(10_000, (await fixture.Query.MatchAsync("big-replies", VectorBatch.FromRows(TestData.Uniform(1, D, seed: 6), D), 1e30f)).Labels.Length);
    }

    [Fact]
    public async Task Every_hostile_request_leaves_every_silo_up_and_a_populated_index_unchanged()
    {
        var index = fixture.Index("hostile-target");
        await index.CreateAsync(new IndexSpec { Dimension = D, ShardCount = 3, MatchThreshold = 0.5 });
        await TestVectors.AddAll(fixture, index, TestData.Uniform(3000, D, seed: 21), D, batchSize: 500);
        var probe = VectorBatch.FromRows(TestData.Uniform(5, D, seed: 22), D);
        var before = await fixture.Query.SearchAsync("hostile-target", probe, 7);
        var many = VectorBatch.FromRows(TestData.Uniform(8192, D, seed: 23), D);
        var nan = TestData.Uniform(2, D, seed: 24);
        nan[3] = float.NaN;

        var hostile = new (string What, Func<Task> Call, Type Expected, string Message)[]
        {
            ("PQ0 at create", () => fixture.Index("h1").CreateAsync(new IndexSpec { Dimension = D, Factory = "PQ0" }), typeof(ArgumentException), "PQ sub-quantizer count"),
            ("HNSW1 at create", () => fixture.Index("h2").CreateAsync(new IndexSpec { Dimension = D, Factory = "HNSW1" }), typeof(ArgumentException), "HNSW neighbour count"),
            ("IVF past the budget", () => fixture.Index("h3").CreateAsync(new IndexSpec { Dimension = 128, Factory = "IVF1048576,Flat", ShardCount = 256 }), typeof(ArgumentException), "CreateMemoryBudget"),
            ("re-create with another spec", () => index.CreateAsync(new IndexSpec { Dimension = D, ShardCount = 2 }), typeof(InvalidOperationException), "different spec"),
            ("a shard re-initialized by a client", () => fixture.Client.GetGrain<IShardGrain>("hostile-target/0").InitializeAsync(new IndexSpec { Dimension = D, ShardCount = 3 }, Guid.NewGuid()), typeof(UnauthorizedAccessException), "internal to the cluster"),
            ("ids inserted into a shard by a client", () => fixture.Client.GetGrain<IShardGrain>("hostile-target/1").AddAsync(Guid.Empty, Guid.NewGuid(), probe, [0, 1, 2, 3, 4], callerIds: true), typeof(UnauthorizedAccessException), "internal to the cluster"),
            ("a model path", () => fixture.Index("h4").CreateAsync(new IndexSpec { Dimension = D, Model = "/etc/shadow", InputDimension = 4 }), typeof(ArgumentException), "model folder"),
            ("8,192 queries × k=2,048", () => fixture.Query.SearchAsync("hostile-target", many, QueryOptions.MaxK), typeof(ReplyTooLargeException), "32 MiB"),
            ("a ShardTimeout of 100 days", () => fixture.Query.SearchAsync("hostile-target", probe, 3, new QueryOptions { ShardTimeout = TimeSpan.FromDays(100) }), typeof(ArgumentOutOfRangeException), "ShardTimeout"),
            ("a negative L2 match threshold", () => fixture.Query.MatchAsync("hostile-target", probe, -1f), typeof(ArgumentException), "cannot be negative"),
            ("a name with a newline", () => fixture.Query.SearchAsync("hostile\ntarget", probe, 3), typeof(ArgumentException), "Index names are"),
            ("a NaN", () => fixture.AddAsync(index, VectorBatch.FromRows(nan, D)), typeof(ArgumentException), "non-finite"),
            ("a 20M-wide index", () => fixture.Index("h5").CreateAsync(new IndexSpec { Dimension = 20_000_000 }), typeof(ArgumentException), "Dimension must be between"),
        };
        foreach (var (what, call, expected, message) in hostile)
        {
            var error = await Assert.ThrowsAnyAsync<Exception>(call);
            Assert.True(expected.IsInstanceOfType(error), $"{what}: {error.GetType().Name}: {error.Message}");
            Assert.Contains(message, error.Message, StringComparison.Ordinal);
        }

        Assert.Equal(fixture.Cluster.Silos.Count, (await fixture.Client.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true)).Count);
        Assert.Equal(3000, await index.CountAsync());
        var after = await fixture.Query.SearchAsync("hostile-target", probe, 7);
        Assert.Equal(before.Labels.ToArray(), after.Labels.ToArray());
        Assert.Equal(before.Distances.ToArray(), after.Distances.ToArray());
    }

    [Fact]
    public async Task Bad_input_gets_specific_exceptions_and_leaves_the_index_unchanged()
    {
        var index = fixture.Index("bad-input");
        await index.CreateAsync(new IndexSpec { Dimension = D, ShardCount = 2 });
        await fixture.AddAsync(index, VectorBatch.FromRows(TestData.Uniform(10, D, seed: 1), D));
        var good = VectorBatch.FromRows(TestData.Uniform(2, D, seed: 2), D);
        var nan = TestData.Uniform(2, D, seed: 3);
        nan[5] = float.NaN;

        await Assert.ThrowsAsync<IndexNotFoundException>(() => fixture.Query.SearchAsync("no-such-index", good, 1));
        await Assert.ThrowsAsync<IndexNotFoundException>(() => fixture.AddAsync(fixture.Index("no-such-index"), good));
        var wrongWidth = VectorBatch.FromRows(TestData.Uniform(2, D + 1, seed: 4), D + 1);
        Assert.Contains("Dimension mismatch", (await Assert.ThrowsAsync<ArgumentException>(() => fixture.AddAsync(index, wrongWidth))).Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => fixture.Query.SearchAsync("bad-input", wrongWidth, 1));
        Assert.Contains("non-finite", (await Assert.ThrowsAsync<ArgumentException>(() => fixture.AddAsync(index, VectorBatch.FromRows(nan, D)))).Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => fixture.Query.SearchAsync("bad-input", VectorBatch.FromRows(nan, D), 1));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => fixture.Query.SearchAsync("bad-input", good, 0));
        await Assert.ThrowsAsync<InvalidOperationException>(() => fixture.AddAsync(index, good, [100, 101])); // numbered index
        await Assert.ThrowsAsync<InvalidOperationException>(() => fixture.Query.MatchAsync("bad-input", good)); // no threshold
        Assert.Throws<ArgumentException>(() => VectorBatch.FromRows(new float[(VectorBatch.MaxBytes / sizeof(float)) + D], D)); // oversized
        Assert.Contains("ShardCount", (await Assert.ThrowsAsync<ArgumentException>(() => fixture.Index("bad-spec").CreateAsync(new IndexSpec { Dimension = D, ShardCount = 0 }))).Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => fixture.Index("bad-factory").CreateAsync(new IndexSpec { Dimension = D, Factory = "NoSuchIndex" }));
        await Assert.ThrowsAsync<IndexNotFoundException>(() => fixture.Index("bad-factory").DescribeAsync());
        Assert.Contains("is not one this cluster serves", (await Assert.ThrowsAsync<ArgumentException>(() => fixture.Index("bad-model").CreateAsync(
            new IndexSpec { Dimension = D, Model = "no-such-model.pt", InputDimension = 4 }))).Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidOperationException>(() => index.CreateAsync(new IndexSpec { Dimension = D, ShardCount = 3 }));

        Assert.Equal(10, await index.CountAsync());
        Assert.Equal(10, (await index.DescribeAsync()).Shards.Sum(s => s.Count));
    }

    [Fact]
    public async Task Caller_ids_are_kept_and_duplicates_rejected()
    {
        var index = fixture.Index("caller-ids");
        await index.CreateAsync(new IndexSpec { Dimension = D, ShardCount = 3 });
        var vectors = TestData.Uniform(6, D, seed: 5);
        await fixture.AddAsync(index, TestVectors.Batch(vectors, D, 0, 3), [1000, 2000, 3000]);
        await fixture.AddAsync(index, TestVectors.Batch(vectors, D, 3, 3), [4000, 5000, 6000]);

        var result = await fixture.Query.SearchAsync("caller-ids", TestVectors.Batch(vectors, D, 0, 6), 1);

        Assert.Equal(new long[] { 1000, 2000, 3000, 4000, 5000, 6000 }, result.Labels.ToArray());
        Assert.Contains("already", (await Assert.ThrowsAsync<ArgumentException>(() => fixture.AddAsync(index, TestVectors.Batch(vectors, D, 0, 1), [5000]))).Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => fixture.AddAsync(index, TestVectors.Batch(vectors, D, 0, 2), [7000, 7000]));
        await Assert.ThrowsAsync<ArgumentException>(() => fixture.AddAsync(index, TestVectors.Batch(vectors, D, 0, 2), [7000]));
        await Assert.ThrowsAsync<ArgumentException>(() => fixture.AddAsync(index, TestVectors.Batch(vectors, D, 0, 1), [-5]));
        await Assert.ThrowsAsync<InvalidOperationException>(() => fixture.AddAsync(index, TestVectors.Batch(vectors, D, 0, 1)));
        Assert.Equal(6, await index.CountAsync());

        Assert.Equal(2, await index.RemoveAsync([1000, 6000, 999]));
        Assert.Equal(4, await index.CountAsync());
    }

    [Fact]
    public async Task Drop_and_create_again_gives_a_fresh_index()
    {
        var index = fixture.Index("recreated");
        await index.CreateAsync(new IndexSpec { Dimension = D, ShardCount = 2 });
        await fixture.AddAsync(index, VectorBatch.FromRows(TestData.Uniform(4, D, seed: 6), D));
        var query = VectorBatch.FromRows(TestData.Uniform(1, D, seed: 7), D);
        Assert.Equal(4, (await fixture.Query.SearchAsync("recreated", query, 10)).Labels.ToArray().Count(l => l >= 0));

        await index.DropAsync();
        await Assert.ThrowsAsync<IndexNotFoundException>(() => index.CountAsync());
        await Assert.ThrowsAsync<IndexNotFoundException>(() => fixture.Query.SearchAsync("recreated", query, 10)); // the cached shard map is refreshed
        await index.CreateAsync(new IndexSpec { Dimension = D, ShardCount = 2 });

        Assert.Equal(0, await index.CountAsync());
        Assert.All((await fixture.Query.SearchAsync("recreated", query, 10)).Labels.ToArray(), l => Assert.Equal(-1, l));
    }

    [Fact]
    public async Task A_cancelled_query_is_not_answered()
    {
        var index = fixture.Index("cancelled");
        await index.CreateAsync(new IndexSpec { Dimension = D, ShardCount = 2 });
        await fixture.AddAsync(index, VectorBatch.FromRows(TestData.Uniform(10, D, seed: 8), D));
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => fixture.Query.SearchAsync("cancelled", VectorBatch.FromRows(TestData.Uniform(1, D, seed: 9), D), 1, cancellationToken: cancelled.Token));
    }

    [Fact]
    public async Task A_shard_that_does_not_answer_in_time_fails_the_query_naming_it()
    {
        var index = fixture.Index("slow");
        await index.CreateAsync(new IndexSpec { Dimension = D, ShardCount = 2 });
        await fixture.AddAsync(index, VectorBatch.FromRows(TestData.Uniform(10, D, seed: 10), D));
        var impatient = new QueryOptions { ShardTimeout = TimeSpan.FromTicks(1), AllowPartial = true };

        var error = await Assert.ThrowsAsync<ShardUnavailableException>(
            () => fixture.Query.SearchAsync("slow", VectorBatch.FromRows(TestData.Uniform(1, D, seed: 11), D), 1, impatient));

        Assert.Contains("no answer within", error.Message, StringComparison.Ordinal);
        Assert.Equal("slow", error.Index);
    }
}
