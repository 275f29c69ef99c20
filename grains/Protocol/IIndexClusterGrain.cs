using Orleans.Concurrency;
using OrleansVectors.GrainInterfaces;

namespace OrleansVectors.Grains;

/// <summary>
/// The index grain as the cluster sees it (same key as <see cref="IIndexGrain"/>, same grain): the shard map the
/// query and ingest fronts, the shards and k-means fan out with, and a shard's request for a snapshot. Clients reach
/// indexes through <see cref="IIndexGrain"/>; a client that names this interface anyway is refused
/// (<see cref="ClusterInternalAttribute"/>).
/// </summary>
[Alias("ov.IIndexClusterGrain"), ClusterInternal]
public interface IIndexClusterGrain : IGrainWithStringKey
{
    /// <summary>What a front needs to fan out, generation included. Interleaves with adds.</summary>
    /// <exception cref="IndexNotFoundException">The index does not exist.</exception>
    [Alias("GetShardMap"), AlwaysInterleave]
    Task<ShardMap> GetShardMapAsync();

    /// <summary>A shard's log has grown past the snapshot threshold: snapshot soon (coalesced; fire and forget).</summary>
    [Alias("RequestSnapshot"), OneWay]
    Task RequestSnapshotAsync();
}
