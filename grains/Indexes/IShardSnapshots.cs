namespace OrleansVectors.Grains.Indexes;

/// <summary>
/// The shards of one index generation as a <see cref="SnapshotCoordinator"/> needs them. Each call reaches every
/// shard and fails as a whole when one shard fails; how long a shard may take and how many are called at once is the
/// implementation's business (<see cref="ShardGrainSnapshots"/> on a cluster).
/// </summary>
internal interface IShardSnapshots
{
    /// <summary>Has every shard write a snapshot of what it holds to <paramref name="blobOf"/>(its number).</summary>
    /// <returns>What each shard wrote, one per shard.</returns>
    Task<IReadOnlyList<ShardSnapshotInfo>> SnapshotAsync(Func<int, string> blobOf);

    /// <summary>Puts every shard back to its blob among <paramref name="snapshots"/> (one per shard, in shard order).</summary>
    /// <returns>What each shard now stands on (its restored snapshot and the log segment it starts a new log at).</returns>
    Task<IReadOnlyList<ShardSnapshotInfo>> RestoreAsync(IReadOnlyList<ShardSnapshotInfo> snapshots);

    /// <summary>Has every shard that answers start again from storage: the newest committed manifest and the log after it.</summary>
    Task ReloadAsync();
}
