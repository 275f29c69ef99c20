using System.Text;
using OrleansVectors.Grains.Indexes;

namespace OrleansVectors.Grains.Tests.Indexes;

/// <summary>
/// Shards as a <see cref="SnapshotCoordinator"/> sees them, without a cluster: a snapshot writes a small blob per shard
/// to the store and rolls each shard's log (a segment file per snapshot), as real shards do; a shard can be made to
/// fail, to answer for the wrong shard, or to wait until the test lets it go.
/// </summary>
internal sealed class FakeShards(IDurableStore store, ShardMap map) : IShardSnapshots
{
    private readonly long[] _segments = new long[map.Spec.ShardCount];
    private readonly List<IReadOnlyList<ShardSnapshotInfo>> _restored = [];
    private TaskCompletionSource? _hold;
    private TaskCompletionSource _held = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>A shard that fails every call, or null.</summary>
    public int? FailingShard { get; set; }

    /// <summary>Answers without the last shard (a fan-out that lost one without saying so).</summary>
    public bool DropLastAnswer { get; set; }

    /// <summary>The snapshots restores were asked for, in order.</summary>
    public IReadOnlyList<IReadOnlyList<ShardSnapshotInfo>> Restored => _restored;

    /// <summary>How many times every shard was told to start again from storage.</summary>
    public int Reloads { get; private set; }

    /// <summary>Makes the next snapshot wait until <see cref="Release"/>; the returned task completes once it waits.</summary>
    public Task HoldNextSnapshot()
    {
        _hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return _held.Task;
    }

    /// <summary>Lets a held snapshot go on.</summary>
    public void Release() => _hold?.TrySetResult();

    public async Task<IReadOnlyList<ShardSnapshotInfo>> SnapshotAsync(Func<int, string> blobOf)
    {
        if (_hold is { } hold)
        {
            _held.TrySetResult();
            await hold.Task;
            _hold = null;
        }

        var written = new List<ShardSnapshotInfo>();
        for (var shard = 0; shard < map.Spec.ShardCount; shard++)
        {
            ThrowIfFailing(shard);
            var blob = blobOf(shard);
            var content = Encoding.UTF8.GetBytes($"shard {shard} at segment {_segments[shard]}");
            await store.WriteAsync(blob, content);

            // the log rolls: the snapshot covers every segment below the new one
            var logFrom = ++_segments[shard];
            await store.WriteAsync(StorageLayout.LogSegment(StorageLayout.Log(GenerationPrefix, shard), logFrom), Array.Empty<byte>());
            written.Add(new ShardSnapshotInfo(shard, blob, $"{shard:x16}", 10 * (shard + 1), content.Length, logFrom));
        }

        return DropLastAnswer ? [.. written.Take(written.Count - 1)] : written;
    }

    public Task<IReadOnlyList<ShardSnapshotInfo>> RestoreAsync(IReadOnlyList<ShardSnapshotInfo> snapshots)
    {
        _restored.Add(snapshots);
        for (var shard = 0; shard < snapshots.Count; shard++)
        {
            Assert.Equal(shard, snapshots[shard].Shard); // the coordinator passes them in shard order
            ThrowIfFailing(shard);
        }

        IReadOnlyList<ShardSnapshotInfo> restored = [.. snapshots.Select(s => s with { LogFromSegment = ++_segments[s.Shard] })];
        return Task.FromResult(restored);
    }

    public Task ReloadAsync()
    {
        Reloads++;
        return Task.CompletedTask;
    }

    /// <summary>The log segments of a shard, oldest first.</summary>
    public Task<IReadOnlyList<string>> LogSegmentsAsync(int shard) => store.ListAsync(StorageLayout.Log(GenerationPrefix, shard));

    private string GenerationPrefix => StorageLayout.Generation(map.Name, map.Generation);

    private void ThrowIfFailing(int shard)
    {
        if (shard == FailingShard)
        {
            throw new ShardUnavailableException(map.Name, shard, "no answer within 120 s");
        }
    }
}
