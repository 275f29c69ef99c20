using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using OrleansVectors.GrainInterfaces;
using OrleansVectors.Grains.Durability;
using OrleansVectors.Grains.Hosting;
using OrleansVectors.Grains.Indexes;
using OrleansVectors.Grains.Models;
using OrleansVectors.Grains.Storage;
using OrleansVectors.Grains.Topology;
using OrleansVectors.Inference.Faiss;

namespace OrleansVectors.Grains;

/// <summary>
/// One named index, as a grain: it keeps the spec and the id allocator's mark in grain storage, checks a create
/// against the silos' memory, and hosts the index's <see cref="IdAllocator"/> (leases of ids) and its
/// <see cref="SnapshotCoordinator"/> (snapshots, restores, saves), giving them the index's identity, its storage and
/// its shards. It is not on the path of an add's vectors: the client or the ingest front leases ids here (in memory;
/// the state is written once per block of <see cref="IdAllocator.IdBlock"/> ids), and the front sends the batch
/// straight to its shards. Create, drop, snapshot, restore, save, load and export run one at a time; everything else
/// interleaves with them.
/// </summary>
[Reentrant]
public sealed partial class IndexGrain(
    [PersistentState("index", OrleansVectorsStorage.Name)] IPersistentState<IndexState> state,
    IDurableStore store,
    IOptions<OrleansVectorsOptions> options,
    ModelCatalog models,
    ILogger<IndexGrain> logger) : Grain, IIndexGrain, IIndexClusterGrain, IDisposable
{
    // create, drop and the snapshot operations, one at a time
    private readonly SemaphoreSlim _exclusive = new(1, 1);

    // writes of the grain state never overlap (Orleans requires it; the allocator writes alongside the others)
    private readonly SemaphoreSlim _stateWrite = new(1, 1);

    // both belong to the generation in the state: made on first use, let go when the generation changes
    private IdAllocator? _ids;
    private SnapshotCoordinator? _snapshots;

    private string Name => this.GetPrimaryKeyString();

    private IdAllocator Ids => _ids ??= NewIdAllocator(state.State.Generation);

    private SnapshotCoordinator Snapshots => _snapshots ??= NewSnapshotCoordinator(RequireTopology());

    /// <inheritdoc/>
    public void Dispose()
    {
        _exclusive.Dispose();
        _stateWrite.Dispose();
    }

    /// <inheritdoc/>
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var interval = options.Value.SnapshotInterval;
        if (interval > TimeSpan.Zero)
        {
            this.RegisterGrainTimer(_ => SnapshotUnlessBusyAsync(onlyIfChanged: true), new GrainTimerCreationOptions(interval, interval) { Interleave = true });
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_snapshots is { } snapshots)
        {
            await snapshots.Housekept;
        }

        // a graceful deactivation gives back the unused rest of the id block, so numbering stays dense
        if (state.State.Spec is not null && _ids is { } ids)
        {
            try
            {
                await ids.GiveBackUnusedAsync();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                LogStateWriteFailed(Name, e.Message);
            }
        }
    }

    /// <inheritdoc/>
    public async Task<IndexDescription> CreateAsync(IndexSpec spec)
    {
        ResourceNames.RequireIndexName(Name, "name");
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        await EnterExclusiveAsync();
        try
        {
            await CreateCoreAsync(spec);
        }
        finally
        {
            _exclusive.Release();
        }

        return await DescribeAsync();
    }

    /// <inheritdoc/>
    public async Task<IndexDescription> DescribeAsync()
    {
        var topology = RequireTopology();
        var shards = await topology.FanOutAsync(GrainFactory, (shard, _, _) => shard.DescribeAsync(), FanOutPolicy.AllShards);
        return new IndexDescription(Name, topology.Spec, shards.Values.Sum(s => s.Count), [.. shards.Values]);
    }

    /// <inheritdoc/>
    public async Task<long> CountAsync() => (await DescribeAsync()).Count;

    /// <inheritdoc/>
    public async Task<bool> DropAsync()
    {
        await EnterExclusiveAsync();
        try
        {
            if (state.State.Spec is null)
            {
                return false;
            }

            // the state first: once it is gone the index is, even if what follows is cut short by a crash
            var topology = RequireTopology();
            await _stateWrite.WaitAsync();
            try
            {
                await state.ClearStateAsync();

                // before the lock goes: a lease of the dropped generation that waits for it finds no index to write to
                state.State = new IndexState();
            }
            finally
            {
                _stateWrite.Release();
            }

            (_ids, _snapshots) = (null, null);
            try
            {
                await topology.FanOutAsync(GrainFactory, async (shard, _, _) =>
                {
                    await shard.DropAsync();
                    return true;
                }, FanOutPolicy.AllShards);
            }
            catch (ShardUnavailableException e)
            {
                // its objects go below anyway; fronts no longer find the index, so nothing reaches the shard
                LogShardDropFailed(Name, e.Message);
            }

            foreach (var path in await store.ListAsync(StorageLayout.Generation(Name, topology.Generation)))
            {
                await store.DeleteAsync(path);
            }

            LogDropped(Name);
            return true;
        }
        finally
        {
            _exclusive.Release();
        }
    }

    /// <inheritdoc/>
    public Task<ShardMap> GetShardMapAsync() => Task.FromResult(RequireMap());

    /// <inheritdoc/>
    public Task<IndexSpec> GetSpecAsync() => Task.FromResult(RequireMap().Spec);

    /// <inheritdoc/>
    public async Task<IdLease> LeaseIdsAsync(Guid leaseId, int count, bool callerIds)
    {
        RequireMap();
        var lease = await Ids.LeaseAsync(leaseId, count, callerIds);
        Snapshots.NoteChanged(); // the batch goes to its shards next
        return lease;
    }

    /// <inheritdoc/>
    public async Task TrainAsync(VectorBatch sample)
    {
        var topology = RequireTopology();
        InputChecks.Require(topology.Spec, sample, nameof(sample));
        Snapshots.NoteChanged();
        await topology.FanOutAsync(GrainFactory, async (shard, _, _) =>
        {
            await shard.TrainAsync(topology.Generation, sample);
            return true;
        }, FanOutPolicy.AllShards);
    }

    /// <inheritdoc/>
    public async Task<long> RemoveAsync(long[] ids)
    {
        var topology = RequireTopology();
        ArgumentNullException.ThrowIfNull(ids);
        Snapshots.NoteChanged();
        var removed = await topology.FanOutAsync(GrainFactory, (shard, _, _) => shard.RemoveAsync(topology.Generation, ids), FanOutPolicy.AllShards);
        return removed.Values.Sum();
    }

    /// <inheritdoc/>
    public Task RequestSnapshotAsync() => SnapshotUnlessBusyAsync(onlyIfChanged: false);

    private async Task CreateCoreAsync(IndexSpec spec)
    {
        if (state.State.Spec is { } existing)
        {
            if (existing == spec)
            {
                return;
            }

            throw new InvalidOperationException($"Index '{Name}' already exists with a different spec; drop it first to change it.");
        }

        // Fail here, on a bad factory string, before any shard exists (without faiss's exception as the inner
        // one: exceptions cross the wire, and FaissException is not an Orleans-serializable type).
        try
        {
            var factory = ShardTopology.FaissFactoryOf(spec);
            var layout = FaissFactoryString.Parse(factory, spec.Dimension);
            var silos = Math.Max(1, (await GrainFactory.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true)).Count);
            var perSilo = layout.CreateBytes * ((spec.ShardCount + silos - 1) / silos);
            if (perSilo > options.Value.CreateMemoryBudget)
            {
                throw new ArgumentException(
                    $"The factory string '{spec.Factory}' takes about {layout.CreateBytes / Limits.BytesPerMiB:N0} MiB per shard as soon as it is created: " +
                    $"{perSilo / Limits.BytesPerMiB:N0} MiB on each of {silos} silo(s) for {spec.ShardCount} shards, past the budget of " +
                    $"{options.Value.CreateMemoryBudget / Limits.BytesPerMiB:N0} MiB per silo (OrleansVectors:CreateMemoryBudget). Use fewer IVF lists or shards.");
            }

            FaissIndex.Create(spec.Dimension, factory, ShardTopology.FaissMetricOf(spec.Metric)).Dispose();
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException(e.Message, nameof(spec));
        }

        if (spec.Model is { } model)
        {
            models.Resolve(model); // every silo serves the same model folder
        }

        // the state first: shards that activate read their spec and generation from it
        // the old generation's allocator and coordinator go with the old spec, before a reentrant lease can see the new
        // one (an allocator built from the old mark during the write would hand out ids the new one hands out again)
        await PersistAsync(s =>
        {
            (s.Spec, s.Generation, s.IdBlockEnd, s.Mode) = (spec, Guid.NewGuid(), 0, IdMode.Unset);
            (_ids, _snapshots) = (null, null);
        });
        var topology = RequireTopology();
        await topology.FanOutAsync(GrainFactory, async (shard, _, _) =>
        {
            await shard.InitializeAsync(spec, topology.Generation);
            return true;
        }, FanOutPolicy.AllShards);
        LogCreated(Name, spec.ShardCount, spec.Factory);
    }

    private ShardTopology RequireTopology() => new(RequireMap());

    private ShardMap RequireMap() =>
        state.State.Spec is { } spec ? new ShardMap(Name, spec, state.State.Generation) : throw new IndexNotFoundException(Name);

    private IdAllocator NewIdAllocator(Guid generation) =>
        new(Name, new IdWatermark(state.State.IdBlockEnd, state.State.Mode), ids => PersistIdsAsync(generation, ids), ShardGrain.RememberedBatches);

    private SnapshotCoordinator NewSnapshotCoordinator(ShardTopology topology) =>
        new(topology.Map, store, new ShardGrainSnapshots(topology, GrainFactory), () => Ids.Progress, options.Value.RetainSnapshots, logger);

    /// <summary>Stores the id allocator's mark of <paramref name="generation"/>, unless the index was dropped or created again since.</summary>
    private async Task PersistIdsAsync(Guid generation, IdWatermark ids)
    {
        await _stateWrite.WaitAsync();
        try
        {
            // a lease of a generation that was dropped (or dropped and created again) meanwhile: its ids mean nothing now
            if (state.State.Spec is null)
            {
                throw new IndexNotFoundException(Name);
            }

            if (state.State.Generation != generation)
            {
                throw new InvalidOperationException($"Index '{Name}' was dropped and created again while ids were leased; add the batch again.");
            }

            await WriteStateAsync(s => (s.IdBlockEnd, s.Mode) = (ids.BlockEnd, ids.Mode));
        }
        finally
        {
            _stateWrite.Release();
        }
    }

    /// <summary>Applies a change to the state and writes it; writes never overlap.</summary>
    private async Task PersistAsync(Action<IndexState> change)
    {
        await _stateWrite.WaitAsync();
        try
        {
            await WriteStateAsync(change);
        }
        finally
        {
            _stateWrite.Release();
        }
    }

    private async Task WriteStateAsync(Action<IndexState> change)
    {
        try
        {
            change(state.State);
            await state.WriteStateAsync();
        }
        catch
        {
            // memory may be ahead of storage: start again from storage on the next call
            DeactivateOnIdle();
            throw;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Index {Index} created with {Shards} shards of {Factory}")]
    private partial void LogCreated(string index, int shards, string factory);

    [LoggerMessage(Level = LogLevel.Information, Message = "Index {Index} dropped")]
    private partial void LogDropped(string index);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Index {Index}: a shard could not be dropped ({Reason}); its storage is deleted anyway")]
    private partial void LogShardDropFailed(string index, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Index {Index}: its state could not be written ({Reason})")]
    private partial void LogStateWriteFailed(string index, string reason);
}
