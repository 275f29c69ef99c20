using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using OrleansVectors.GrainInterfaces;
using OrleansVectors.Grains.Diagnostics;
using OrleansVectors.Grains.Hosting;
using OrleansVectors.Grains.Models;
using OrleansVectors.Grains.Placement;
using OrleansVectors.Grains.Shards;
using OrleansVectors.Grains.Storage;
using OrleansVectors.Grains.Threading;
using OrleansVectors.Grains.Topology;

namespace OrleansVectors.Grains;

/// <summary>
/// One shard, as a grain: the host of a <see cref="ShardCore"/> (the faiss index, its write-ahead log and snapshots
/// in the silo's <see cref="IDurableStore"/>, replay, the idempotency window). The grain gives the core its identity
/// and its generation from the index's shard map, restores it when activated (in the background; calls wait for that,
/// bounded by <see cref="OrleansVectorsOptions.RestoreWait"/>), turns messages into calls, reports metrics, asks the
/// index for snapshots as the log grows, and ends the activation when the core must be loaded again from its log.
/// </summary>
/// <remarks>
/// The grain is reentrant: searches run alongside everything else, and the core orders the changes itself.
/// </remarks>
[ShardPlacement, Reentrant]
[CollectionAgeLimit(AlwaysActive = true)] // restoring is not free: keep shards in memory rather than idle-collect them
public sealed partial class ShardGrain(
    IModelHost models,
    FaissWorkers workers,
    IDurableStore store,
    IOptions<OrleansVectorsOptions> options,
    OrleansVectorsMetrics metrics,
    ILogger<ShardGrain> logger) : Grain, IShardGrain, IDisposable
{
    /// <summary>Batch ids remembered for idempotent retries, per shard.</summary>
    internal const int RememberedBatches = ShardCoreOptions.DefaultRememberedBatches;

    private Task _ready = Task.CompletedTask;
    private DateTime _snapshotRequested;
    private (string Index, int Shard)? _identity;
    private OrleansVectorsMetrics.LocalShard? _local;
    private ShardCore? _core;
    private ShardKMeans? _kmeans;

    private string Key => this.GetPrimaryKeyString();

    private int ShardNumber => Identity.Shard;

    private string ShardIndexName => Identity.Index;

    private (string Index, int Shard) Identity => _identity ??= ShardTopology.ParseShardKey(Key);

    private ShardCore Core => _core ??= new ShardCore(
        Key,
        store,
        workers,
        models,
        new ShardCoreOptions { RememberedBatches = RememberedBatches, SearchEngine = options.Value.ToSearchEngineOptions() },
        logger);

    private ShardKMeans KMeans => _kmeans ??= new ShardKMeans(Core);

    /// <inheritdoc/>
    public void Dispose() => _local?.Dispose();

    /// <inheritdoc/>
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // restoring may take longer than activation is allowed to: do it in the background and gate calls on it.
        // Until it ends, the silo's readiness says no (see SiloReadiness).
        var core = Core;
        var local = _local = metrics.ShardActivated(ShardIndexName, ShardNumber, () => core.Count);
        _ready = RestoreFromStoreAsync();
        _ready.ContinueWith(_ => local.Restored(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).Ignore();
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public async Task InitializeAsync(IndexSpec spec, Guid generation)
    {
        ArgumentNullException.ThrowIfNull(spec);
        await WaitForRestoreAsync(throwOnFailure: false);
        if (Core.Generation == generation)
        {
            return;
        }

        await LoadAsync(new ShardMap(ShardIndexName, spec, generation));
        LogInitialized(Key, spec.Factory, RuntimeIdentity);
    }

    /// <inheritdoc/>
    public async Task<AddReceipt> AddAsync(Guid generation, Guid batchId, VectorBatch vectors, long[] ids, bool callerIds)
    {
        await WaitForRestoreAsync(throwOnFailure: true);
        var added = await ReloadOnDivergenceAsync(core => core.AddAsync(generation, batchId, vectors, ids, callerIds));
        if (!added.Retried)
        {
            NoteAdded(added.Receipt.Count);
        }

        return new AddReceipt(added.Receipt.FirstId, added.Receipt.Count, ShardNumber);
    }

    /// <inheritdoc/>
    public async Task TrainAsync(Guid generation, VectorBatch sample)
    {
        await WaitForRestoreAsync(throwOnFailure: true);
        await ReloadOnDivergenceAsync(async core =>
        {
            await core.TrainAsync(generation, sample);
            return true;
        });
    }

    /// <inheritdoc/>
    public async Task<NeighborResults> SearchAsync(Guid generation, VectorBatch queries, int k, QueryOptions options, CancellationToken cancellationToken = default)
    {
        await WaitForRestoreAsync(throwOnFailure: true);
        return await Core.SearchAsync(generation, queries, k, options, cancellationToken);
    }

    /// <inheritdoc/>
    public async Task<RangeResults> RangeSearchAsync(Guid generation, VectorBatch queries, float radius, QueryOptions options, CancellationToken cancellationToken = default)
    {
        await WaitForRestoreAsync(throwOnFailure: true);
        return await Core.RangeSearchAsync(generation, queries, radius, options, cancellationToken);
    }

    /// <inheritdoc/>
    public async Task<long[]> FindExistingAsync(Guid generation, long[] ids)
    {
        await WaitForRestoreAsync(throwOnFailure: true);
        return Core.FindExisting(generation, ids);
    }

    /// <inheritdoc/>
    public async Task<long> RemoveAsync(Guid generation, long[] ids)
    {
        await WaitForRestoreAsync(throwOnFailure: true);
        return await ReloadOnDivergenceAsync(core => core.RemoveAsync(generation, ids));
    }

    /// <inheritdoc/>
    public Task ReloadAsync()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public async Task<ShardDescription> DescribeAsync()
    {
        await WaitForRestoreAsync(throwOnFailure: true);
        return new ShardDescription(ShardNumber, Core.Count, RuntimeIdentity, Core.SearchEngineDescription ?? "none (no index)");
    }

    /// <inheritdoc/>
    public async Task DropAsync()
    {
        await WaitForRestoreAsync(throwOnFailure: false);
        await Core.DropAsync();
        _snapshotRequested = default;
        DeactivateOnIdle();
    }

    /// <inheritdoc/>
    public async Task<ShardSnapshotInfo> SnapshotAsync(Guid generation, string blob)
    {
        await WaitForRestoreAsync(throwOnFailure: true);
        var written = await Core.SnapshotAsync(generation, blob);
        metrics.SnapshotWritten(ShardIndexName, written.Duration, written.Info.Bytes);
        _snapshotRequested = default;
        return written.Info;
    }

    /// <inheritdoc/>
    public async Task<ShardSnapshotInfo> RestoreSnapshotAsync(Guid generation, ShardSnapshotInfo snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        await WaitForRestoreAsync(throwOnFailure: false);
        var map = await GrainFactory.GetGrain<IIndexClusterGrain>(ShardIndexName).GetShardMapAsync();
        if (map.Generation != generation)
        {
            throw new StaleGenerationException(Key);
        }

        var restored = await Core.RestoreSnapshotAsync(LocationOf(map), snapshot);
        _ready = Task.CompletedTask;
        _snapshotRequested = default;
        return restored;
    }

    /// <inheritdoc/>
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // nothing here is needed for durability (acknowledged changes are in the log); it only frees memory
        _local?.Dispose();
        try
        {
            await _ready;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // reported to the calls that waited for it
        }

        await Core.DisposeAsync();
    }

    /// <summary>Restores the shard at activation, when its index exists.</summary>
    private async Task RestoreFromStoreAsync()
    {
        ShardMap map;
        try
        {
            map = await GrainFactory.GetGrain<IIndexClusterGrain>(ShardIndexName).GetShardMapAsync();
        }
        catch (IndexNotFoundException)
        {
            return; // nothing to restore; a create initializes the shard
        }

        try
        {
            await LoadAsync(map);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // the next activation tries again (a blob service that was briefly away; a corrupt object fails again,
            // naming it, until an earlier version is restored)
            LogRestoreFailed(Key, e.Message);
            DeactivateOnIdle();
            throw;
        }
    }

    /// <summary>Opens the map's generation in the core: its newest committed snapshot (if any) and the log after it.</summary>
    private async Task LoadAsync(ShardMap map)
    {
        await Core.LoadAsync(LocationOf(map));
        _snapshotRequested = default;
    }

    private ShardLocation LocationOf(ShardMap map) =>
        new(map.Name, map.Generation, ShardNumber, map.Spec, ShardTopology.FaissFactoryOf(map.Spec), ShardTopology.FaissMetricOf(map.Spec.Metric));

    /// <summary>
    /// Calls the core for a change; when the change failed in a way that left memory apart from the log, the
    /// activation ends and the next one starts again from the log.
    /// </summary>
    private async Task<T> ReloadOnDivergenceAsync<T>(Func<ShardCore, Task<T>> change)
    {
        var core = Core;
        try
        {
            return await change(core);
        }
        catch when (core.NeedsReload)
        {
            DeactivateOnIdle();
            throw;
        }
    }

    /// <summary>Asks the index for a snapshot once this shard's log has grown past the threshold, again every minute until one runs.</summary>
    private void NoteAdded(int count)
    {
        metrics.VectorsAdded(ShardIndexName, count);
        var every = options.Value.SnapshotEveryVectors;
        if (every > 0 && Core.AddedSinceSnapshot >= every && DateTime.UtcNow - _snapshotRequested > TimeSpan.FromMinutes(1))
        {
            _snapshotRequested = DateTime.UtcNow;
            GrainFactory.GetGrain<IIndexClusterGrain>(ShardIndexName).RequestSnapshotAsync().Ignore();
        }
    }

    /// <summary>Waits (bounded) for the activation's restore; a failed one fails the call with its reason.</summary>
    private async Task WaitForRestoreAsync(bool throwOnFailure)
    {
        try
        {
            await _ready.WaitAsync(options.Value.RestoreWait);
        }
        catch (TimeoutException)
        {
            throw new ShardUnavailableException(ShardIndexName, ShardNumber, $"still restoring its snapshot and log after {options.Value.RestoreWait.TotalSeconds:0} s; try again");
        }
        catch (Exception) when (!throwOnFailure)
        {
            // logged where the restore failed
        }
        catch (Exception e) when (e is InvalidDataException or IOException or InvalidOperationException)
        {
            throw new InvalidOperationException(
                $"Shard '{Key}' could not be restored: {e.Message} Restore an earlier snapshot version (IIndexGrain.RestoreAsync, 'ovx restore --version N') or drop the index.");
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Shard {Shard} initialized ({Factory}) on {Silo}")]
    private partial void LogInitialized(string shard, string factory, string silo);

    [LoggerMessage(Level = LogLevel.Error, Message = "Shard {Shard} could not be restored: {Reason}")]
    private partial void LogRestoreFailed(string shard, string reason);
}
