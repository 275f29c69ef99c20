using OrleansVectors.Grains.Topology;

namespace OrleansVectors.Grains.Tests;

/// <summary>The router alone, without a cluster: where ids and batches go.</summary>
public sealed class ShardRouterTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(6)]
    [InlineData(7)]
    public void Consecutive_ids_spread_exactly_evenly_and_strided_ids_spread_as_hashed(int shards)
    {
        var router = new ShardRouter(shards);

        // exactly even over whole blocks; a run that starts or ends inside a block is off by one at most
        var aligned = Enumerable.Range(0, 600 * shards).GroupBy(id => router.ShardOfId(id)).Select(g => g.Count()).ToArray();
        Assert.Equal(Enumerable.Repeat(600, shards), aligned);
        var unaligned = Enumerable.Range(5_003, 600 * shards).GroupBy(id => router.ShardOfId(id)).Select(g => g.Count()).ToArray();
        Assert.Equal(shards, unaligned.Length);
        Assert.All(unaligned, count => Assert.InRange(count, 599, 601));

        // ids that are all multiples of the shard count would land on one shard under id mod shards
        var strided = Enumerable.Range(0, 600 * shards).Select(i => (long)i * shards).GroupBy(router.ShardOfId).Select(g => g.Count()).ToArray();
        Assert.Equal(shards, strided.Length);
        Assert.All(strided, count => Assert.InRange(count, 480, 720));
    }

    [Fact]
    public void A_batch_with_ids_from_its_request_is_split_by_the_home_shard_of_each_id()
    {
        var router = new ShardRouter(6);
        long[] ids = [.. Enumerable.Range(0, 500).Select(i => (long)i * 7919)];

        var parts = router.Route(Guid.NewGuid(), ids, idsFromRequest: true);

        Assert.Equal(Enumerable.Range(0, 500), parts.SelectMany(p => p.Rows).Order());
        Assert.All(parts, p => Assert.All(p.Rows, row => Assert.Equal(p.Shard, router.ShardOfId(ids[row]))));
        Assert.All(parts, p => Assert.Equal(p.Rows.Order(), p.Rows));
        Assert.Equal(parts.Select(p => p.Shard).Order(), parts.Select(p => p.Shard));

        // the same request again (a retry) is split the same way, whatever its batch id
        Assert.Equal(parts.Select(p => (p.Shard, string.Join(',', p.Rows))), router.Route(Guid.NewGuid(), ids, idsFromRequest: true).Select(p => (p.Shard, string.Join(',', p.Rows))));
    }

    [Fact]
    public void A_batch_whose_ids_the_front_leased_goes_whole_to_the_shard_its_batch_id_picks_whatever_its_ids()
    {
        var router = new ShardRouter(6);
        var batchId = Guid.NewGuid();

        // a retry after the index grain lost its lease gets other ids: it must still meet the same shard
        var first = router.Route(batchId, [.. Enumerable.Range(0, 100).Select(i => (long)i)], idsFromRequest: false);
        var retry = router.Route(batchId, [.. Enumerable.Range(1 << 20, 100).Select(i => (long)i)], idsFromRequest: false);

        var part = Assert.Single(first);
        Assert.Equal(router.ShardOfBatch(batchId), part.Shard);
        Assert.Equal(Enumerable.Range(0, 100), part.Rows);
        Assert.Equal(part.Shard, Assert.Single(retry).Shard);
        Assert.Equal(6, Enumerable.Range(0, 600).Select(_ => router.ShardOfBatch(Guid.NewGuid())).Distinct().Count());
    }

    [Fact]
    public void Bad_arguments_are_refused_naming_them()
    {
        Assert.Equal("shardCount", Assert.Throws<ArgumentOutOfRangeException>(() => new ShardRouter(0)).ParamName);
        Assert.Equal("id", Assert.Throws<ArgumentOutOfRangeException>(() => new ShardRouter(3).ShardOfId(-1)).ParamName);
        Assert.Equal("ids", Assert.Throws<ArgumentException>(() => new ShardRouter(3).Route(Guid.NewGuid(), [], idsFromRequest: true)).ParamName);
    }
}
