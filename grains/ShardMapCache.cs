using OrleansVectors.GrainInterfaces;
using OrleansVectors.Grains.Topology;

namespace OrleansVectors.Grains;

/// <summary>
/// The shard maps a front (query or ingest) has read, by index name. A call that meets a shard of another
/// generation, or an unavailable shard, reads the map again: a dropped index then fails with
/// <see cref="IndexNotFoundException"/>, a re-created one is called once more, and a shard that is unavailable in
/// the same generation fails the call. Not thread-safe: one per grain activation.
/// </summary>
internal sealed class ShardMapCache
{
    private readonly Dictionary<string, ShardTopology> _topologies = [];

    /// <summary>Runs <paramref name="call"/> against the cached topology of <paramref name="index"/>, refreshing it as described.</summary>
    public async Task<T> WithFreshTopologyAsync<T>(IGrainFactory grains, string index, Func<ShardTopology, Task<T>> call)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(index);
        var topology = await GetTopologyAsync(grains, index, refresh: false);
        try
        {
            return await call(topology);
        }
        catch (Exception e) when (e is StaleGenerationException or ShardUnavailableException or ShardLostException)
        {
            ShardTopology fresh;
            try
            {
                fresh = await GetTopologyAsync(grains, index, refresh: true);
            }
            catch (IndexNotFoundException)
            {
                _topologies.Remove(index);
                throw;
            }

            if (fresh.Generation == topology.Generation && e is not StaleGenerationException)
            {
                throw;
            }

            return await call(fresh);
        }
    }

    private async Task<ShardTopology> GetTopologyAsync(IGrainFactory grains, string index, bool refresh)
    {
        if (refresh || !_topologies.TryGetValue(index, out var topology))
        {
            topology = new ShardTopology(await grains.GetGrain<IIndexClusterGrain>(index).GetShardMapAsync());
            _topologies[index] = topology;
        }

        return topology;
    }
}
