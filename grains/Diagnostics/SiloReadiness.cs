using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansVectors.GrainInterfaces;
using OrleansVectors.Grains.Durability;
using OrleansVectors.Grains.Hosting;
using OrleansVectors.Grains.Storage;

namespace OrleansVectors.Grains.Diagnostics;

/// <summary>
/// Whether this silo should receive traffic (Kubernetes' readiness): it has joined the cluster, every index in the
/// store has answered once since this silo started (so shards that lost their silo are active again, wherever
/// placement put them, and restored), and no shard on this silo is still restoring. A rolling update that waits
/// for readiness therefore takes the next silo down only when every shard is back.
/// </summary>
public sealed partial class SiloReadiness(
    IGrainFactory grains,
    IDurableStore store,
    OrleansVectorsMetrics metrics,
    IOptions<OrleansVectorsOptions> options,
    ILogger<SiloReadiness> logger) : ILifecycleParticipant<ISiloLifecycle>, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private volatile bool _active;
    private volatile bool _warmedUp;
    private Task _warmUp = Task.CompletedTask;

    /// <summary>Why the silo is not ready, or null when it is.</summary>
    public string? NotReadyReason =>
        !_active ? "the silo has not joined the cluster (or is leaving it)"
        : !_warmedUp ? "the indexes' shards are still being activated and restored"
        : metrics.RestoringShards is > 0 and var restoring ? $"{restoring} shard(s) on this silo are still restoring"
        : null;

    /// <inheritdoc/>
    public void Dispose() => _stopping.Dispose();

    /// <inheritdoc/>
    public void Participate(ISiloLifecycle lifecycle)
    {
        ArgumentNullException.ThrowIfNull(lifecycle);
        lifecycle.Subscribe(nameof(SiloReadiness), ServiceLifecycleStage.Active, OnActiveAsync, OnLeavingAsync);
    }

    private Task OnActiveAsync(CancellationToken cancellationToken)
    {
        _active = true;
        _warmUp = Task.Run(() => WarmUpAsync(_stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task OnLeavingAsync(CancellationToken cancellationToken)
    {
        _active = false;
        await _stopping.CancelAsync();
        await _warmUp.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    /// <summary>Asks every index for its count once, retrying while its shards restore; logs and skips broken ones.</summary>
    private async Task WarmUpAsync(CancellationToken cancellationToken)
    {
        try
        {
            var indexes = await ListIndexesAsync(cancellationToken);
            foreach (var index in indexes)
            {
                await WarmUpAsync(index, cancellationToken);
            }

            _warmedUp = true;
            LogWarmedUp(indexes.Count);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task<IReadOnlyList<string>> ListIndexesAsync(CancellationToken cancellationToken)
    {
        // the store may be briefly away while the cluster starts: keep asking (readiness stays false meanwhile)
        for (var delay = TimeSpan.FromSeconds(1); ; delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(30).Ticks)))
        {
            try
            {
                return StorageLayout.IndexesIn(await store.ListAsync(StorageLayout.AllIndexes, cancellationToken));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogListFailed(e.Message, delay.TotalSeconds);
                await Task.Delay(delay, cancellationToken);
            }
        }
    }

    private async Task WarmUpAsync(string index, CancellationToken cancellationToken)
    {
        // a shard restoring a big snapshot answers ShardUnavailable after RestoreWait: ask again, a bounded number of times
        const int Attempts = 30;
        for (var attempt = 1; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                await grains.GetGrain<IIndexGrain>(index).CountAsync().WaitAsync(options.Value.RestoreWait * 2, cancellationToken);
                return;
            }
            catch (IndexNotFoundException)
            {
                return; // dropped: its objects are on their way out
            }
            catch (Exception e) when (e is ShardUnavailableException or TimeoutException or OrleansException && attempt < Attempts)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // a shard that cannot be restored needs an operator (restore an earlier version); holding every
                // silo out of service would not help it
                LogWarmUpFailed(index, e.Message);
                return;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Ready: {Count} indexes answered with every shard restored")]
    private partial void LogWarmedUp(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Listing the indexes in the store failed ({Reason}); trying again in {Seconds} s")]
    private partial void LogListFailed(string reason, double seconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "Index {Index} did not answer while the silo started ({Reason}); the silo reports ready without it")]
    private partial void LogWarmUpFailed(string index, string reason);
}
