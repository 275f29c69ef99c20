using System.Collections.Concurrent;
using OrleansVectors.Grains.Topology;

namespace OrleansVectors.Grains.Tests;

/// <summary>Where adds go: evenly over the shards, and with caller ids only to the shards that own the ids.</summary>
[Collection(SharedCluster.Name)]
public sealed class EvenRoutingTests(ClusterFixture fixture)
{
    private const int D = 8;
    private const int Shards = 6;
    private const int BatchesPerWriter = 100;
    private const int BatchRows = 500;

    /// <summary>The shard calls of <see cref="A_batch_with_caller_ids_calls_only_the_shards_that_own_its_ids"/>'s index, as the silos received them.</summary>
    private static readonly ConcurrentQueue<(string Shard, string Method)> QuietIndexCalls = new();

    [Fact]
    public async Task Two_writers_adding_with_caller_ids_fill_every_shard_within_ten_percent_of_the_mean()
    {
        var index = fixture.Index("even-caller-ids");
        await index.CreateAsync(new IndexSpec { Dimension = D, ShardCount = Shards });

        // ids as a store's keys would come: distinct, in no order, with no pattern the router could favour
        var random = new Random(18);
        var ids = new HashSet<long>();
        while (ids.Count < 2 * BatchesPerWriter * BatchRows)
        {
            ids.Add(random.NextInt64(0, long.MaxValue));
        }

        var all = ids.ToArray();
        await Task.WhenAll(Enumerable.Range(0, 2).Select(writer => Task.Run(async () =>
        {
            for (var b = 0; b < BatchesPerWriter; b++)
            {
                var batch = VectorBatch.FromRows(TestData.Uniform(BatchRows, D, seed: (writer * 1000) + b), D);
                var batchIds = all.AsSpan(((writer * BatchesPerWriter) + b) * BatchRows, BatchRows).ToArray();
                await fixture.Client.GetGrain<IIngestGrain>(0).AddAsync("even-caller-ids", new AddRequest(Guid.NewGuid(), batch) { Ids = batchIds });
            }
        })));

        AssertEven(await index.DescribeAsync());
    }

    [Fact]
    public async Task Two_writers_adding_with_automatic_ids_fill_every_shard_within_ten_percent_of_the_mean()
    {
        var index = fixture.Index("even-auto-ids");
        await index.CreateAsync(new IndexSpec { Dimension = D, ShardCount = Shards });

        // each add leases its ids and sends one batch, as the client library does for an input of one batch
        var receipts = new ConcurrentBag<AddReceipt>();
        await Task.WhenAll(Enumerable.Range(0, 2).Select(writer => Task.Run(async () =>
        {
            for (var b = 0; b < BatchesPerWriter; b++)
            {
                foreach (var receipt in await LeasedAdds.AddAsync(fixture.Client, "even-auto-ids", TestData.Uniform(BatchRows, D, seed: (writer * 1000) + b), D, BatchRows))
                {
                    receipts.Add(receipt);
                }
            }
        })));

        AssertEven(await index.DescribeAsync());

        // the index's own numbering, whole batches of it: ids 0 … 99,999 in blocks of 500
        Assert.Equal(Enumerable.Range(0, 2 * BatchesPerWriter).Select(b => (long)b * BatchRows), receipts.Select(r => r.FirstId).Order());
        Assert.All(receipts, r => Assert.Equal(BatchRows, r.Count));
    }

    [Fact]
    public async Task A_batch_with_caller_ids_calls_only_the_shards_that_own_its_ids()
    {
        var root = Directory.CreateTempSubdirectory("ovf-quiet-").FullName;
        await using var cluster = await DurableCluster.StartAsync(
            silo => silo.AddOrleansVectorsFileStorage(root).AddIncomingGrainCallFilter(async call =>
            {
                var key = call.TargetId.Key.ToString();
                if (call.Grain is IShardGrain && key.StartsWith("quiet/", StringComparison.Ordinal))
                {
                    QuietIndexCalls.Enqueue((key, call.MethodName));
                }

                await call.Invoke();
            }),
            () => Directory.Delete(root, recursive: true));
        await cluster.Index("quiet").CreateAsync(new IndexSpec { Dimension = D, ShardCount = Shards });
        var router = new ShardRouter(Shards);
        long[] OwnedBy(int count, params int[] shards) => [.. Enumerable.Range(0, int.MaxValue).Select(i => (long)i * 7).Where(id => shards.Contains(router.ShardOfId(id))).Take(count)];
        await cluster.AddAsync("quiet", VectorBatch.FromRows(TestData.Uniform(600, D, seed: 1), D), [.. Enumerable.Range(1_000_000, 600).Select(i => (long)i)]);

        // all ids on shard 2: one message, to shard 2
        var onTwo = OwnedBy(50, 2);
        await AssertCallsOnlyAsync(["quiet/2"], () => cluster.AddAsync("quiet", VectorBatch.FromRows(TestData.Uniform(50, D, seed: 2), D), onTwo));

        // ids on shards 1 and 4: those two only, however many ids the index holds elsewhere
        var onOneAndFour = OwnedBy(80, 1, 4).Except(onTwo).ToArray();
        await AssertCallsOnlyAsync(["quiet/1", "quiet/4"], () => cluster.AddAsync("quiet", VectorBatch.FromRows(TestData.Uniform(onOneAndFour.Length, D, seed: 3), D), onOneAndFour));

        // an id the index holds already is found where it lives; nothing of the batch is stored
        long[] clash = [.. OwnedBy(200, 3, 5).Except(onOneAndFour).Except(onTwo).Take(9), onOneAndFour[0]];
        await AssertCallsOnlyAsync(
            ["quiet/3", "quiet/5", $"quiet/{router.ShardOfId(onOneAndFour[0])}"],
            () => Assert.ThrowsAsync<ArgumentException>(() => cluster.AddAsync("quiet", VectorBatch.FromRows(TestData.Uniform(10, D, seed: 4), D), clash)));
        Assert.Equal(600 + 50 + onOneAndFour.Length, await cluster.Index("quiet").CountAsync());
    }

    private static async Task AssertCallsOnlyAsync(string[] shards, Func<Task> add)
    {
        QuietIndexCalls.Clear();
        await add();
        var calls = QuietIndexCalls.ToArray();
        Assert.Contains(calls, c => c.Method.StartsWith("Add", StringComparison.Ordinal));
        Assert.All(calls, c => Assert.Contains(c.Shard, shards));
    }

    private static void AssertEven(IndexDescription description)
    {
        Assert.Equal(2 * BatchesPerWriter * BatchRows, description.Count);
        var mean = description.Count / (double)Shards;
        var counts = description.Shards.Select(s => s.Count).ToArray();
        Assert.True(counts.All(c => Math.Abs(c - mean) <= mean / 10), $"shard counts [{string.Join(", ", counts)}] are not all within ±10% of {mean:0}");
    }
}
