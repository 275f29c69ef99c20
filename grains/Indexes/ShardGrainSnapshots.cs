using OrleansVectors.Grains.Topology;

namespace OrleansVectors.Grains.Indexes;

/// <summary>The shards of an index generation as grains, each call a fan-out over the shard grains of <paramref name="topology"/>.</summary>
internal sealed class ShardGrainSnapshots(ShardTopology topology, IGrainFactory grains) : IShardSnapshots
{
    /// <summary>
    /// Shard snapshots and restores: every shard must answer, each within two minutes (a 2 GiB shard uploads for a
    /// while; a shard on a silo that died must not hold the index's snapshots up for longer).
    /// </summary>
    private static readonly FanOutPolicy SnapshotPolicy = new(64, TimeSpan.FromMinutes(2), AllowPartial: false);

    /// <summary>Reloads after a failed restore: every shard that answers within 30 s (the restore's error is what the caller needs).</summary>
    private static readonly FanOutPolicy ReloadPolicy = new(64, TimeSpan.FromSeconds(30), AllowPartial: true);

    /// <inheritdoc/>
    public async Task<IReadOnlyList<ShardSnapshotInfo>> SnapshotAsync(Func<int, string> blobOf)
    {
        ArgumentNullException.ThrowIfNull(blobOf);
        var written = await topology.FanOutAsync(grains, (shard, number, _) => shard.SnapshotAsync(topology.Generation, blobOf(number)), SnapshotPolicy);
        return [.. written.Values];
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<ShardSnapshotInfo>> RestoreAsync(IReadOnlyList<ShardSnapshotInfo> snapshots)
    {
        ArgumentNullException.ThrowIfNull(snapshots);
        var restored = await topology.FanOutAsync(grains, (shard, number, _) => shard.RestoreSnapshotAsync(topology.Generation, snapshots[number]), SnapshotPolicy);
        return [.. restored.Values];
    }

    /// <inheritdoc/>
    public Task ReloadAsync() => topology.FanOutAsync(grains, async (shard, _, _) =>
    {
        await shard.ReloadAsync();
        return true;
    }, ReloadPolicy);
}
