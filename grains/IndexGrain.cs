using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using OrleansVectors.GrainInterfaces;
using OrleansVectors.Grains.Durability;
using OrleansVectors.Grains.Hosting;
using OrleansVectors.Grains.Models;
using OrleansVectors.Grains.Storage;
using OrleansVectors.Grains.Topology;
using OrleansVectors.Inference.Faiss;

namespace OrleansVectors.Grains;

/// <summary>
/// One named index: keeps the spec (in grain storage), hands out ids, and drives snapshots. It is not on the
/// path of an add's vectors: the client or the ingest front leases ids here (in memory; the state is written once
/// per block of <see cref="IdBlock"/> ids), and the front sends the batch straight to its shards. Create, drop,
/// snapshot, restore, save and load run one at a time; everything else interleaves with them.
/// </summary>
[Reentrant]
public sealed partial class IndexGrain(
    [PersistentState("index", OrleansVectorsStorage.Name)] IPersistentState<IndexState> state,
    IDurableStore store,
    IOptions<OrleansVectorsOptions> options,
    ModelCatalog models,
    ILogger<IndexGrain> logger) : Grain, IIndexGrain, IIndexClusterGrain, IDisposable
{
    /// <summary>Auto-numbered ids taken per grain-state write; a crash of the index grain skips the rest of a block.</summary>
    internal const long IdBlock = 1 << 20;

    private readonly SemaphoreSlim _exclusive = new(1, 1);
    private readonly SemaphoreSlim _stateWrite = new(1, 1);
    private readonly Dictionary<Guid, Task<IdLease>> _leases = [];
    private readonly Queue<Guid> _leaseOrder = new();
    private long _nextId;
    private long _durableIdBlockEnd;
    private bool _changedSinceSnapshot;
    private (bool Read, string? ETag, long Version) _manifest;

    /// <summary>
    /// Log truncation and retention after the last commit, run after the commit is answered; never faults. The next
    /// exclusive operation, a listing and deactivation wait for it, so nothing races its deletes.
    /// </summary>
    private Task _housekeeping = Task.CompletedTask;

    private string Name => this.GetPrimaryKeyString();

    /// <inheritdoc/>
    public void Dispose()
    {
        _exclusive.Dispose();
        _stateWrite.Dispose();
    }

    /// <inheritdoc/>
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _nextId = _durableIdBlockEnd = state.State.IdBlockEnd;
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
        await _housekeeping;

        // a graceful deactivation gives back the unused rest of the id block, so numbering stays dense
        if (state.State.Spec is not null && _nextId < state.State.IdBlockEnd)
        {
            try
            {
                await PersistAsync(s => s.IdBlockEnd = _nextId);
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
            }
            finally
            {
                _stateWrite.Release();
            }

            state.State = new IndexState();
            _nextId = _durableIdBlockEnd = 0;
            _leases.Clear();
            _leaseOrder.Clear();
            _manifest = default;
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
    public Task<ShardMap> GetShardMapAsync() => Task.FromResult(RequireTopology().Map);

    /// <inheritdoc/>
    public Task<IndexSpec> GetSpecAsync() => Task.FromResult(RequireTopology().Spec);

    /// <inheritdoc/>
    public async Task<IdLease> LeaseIdsAsync(Guid leaseId, int count, bool callerIds)
    {
        RequireTopology();
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var mode = callerIds ? IdMode.Caller : IdMode.Auto;
        if (state.State.Mode != IdMode.Unset && state.State.Mode != mode)
        {
            throw new InvalidOperationException(state.State.Mode == IdMode.Auto
                ? $"Index '{Name}' numbers its vectors itself: add without ids."
                : $"Index '{Name}' takes caller ids: give an id for every vector.");
        }

        if (_leases.TryGetValue(leaseId, out var known))
        {
            return await known; // a retry, or the same batch from two fronts: one lease, stored once
        }

        _changedSinceSnapshot = true;
        var lease = new IdLease(callerIds ? -1 : _nextId, count);
        if (!callerIds)
        {
            _nextId += count;
        }

        var firstAdd = state.State.Mode == IdMode.Unset;
        state.State.Mode = mode; // set before any write, so concurrent first adds agree on the mode
        var leased = CoverAsync(lease, needed: callerIds ? 0 : lease.FirstId + count, firstAdd);
        RememberLease(leaseId, leased);
        try
        {
            return await leased;
        }
        catch
        {
            _leases.Remove(leaseId);
            throw;
        }
    }

    /// <summary>
    /// Returns the lease once stored state covers it: no id is handed out before a stored block holds it (after a
    /// crash, numbering resumes past every id given), and the first add's id mode is stored before it is used.
    /// </summary>
    private async Task<IdLease> CoverAsync(IdLease lease, long needed, bool firstAdd)
    {
        if (firstAdd || needed > _durableIdBlockEnd)
        {
            await PersistAsync(
                s => s.IdBlockEnd = Math.Max(s.IdBlockEnd, Math.Max(needed, _nextId) + IdBlock),
                stillNeeded: () => firstAdd || needed > _durableIdBlockEnd);
        }

        return lease;
    }

    /// <inheritdoc/>
    public async Task TrainAsync(VectorBatch sample)
    {
        var topology = RequireTopology();
        InputChecks.Require(topology.Spec, sample, nameof(sample));
        _changedSinceSnapshot = true;
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
        _changedSinceSnapshot = true;
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
                    $"The factory string '{spec.Factory}' takes about {layout.CreateBytes / (1 << 20):N0} MiB per shard as soon as it is created: " +
                    $"{perSilo / (1 << 20):N0} MiB on each of {silos} silo(s) for {spec.ShardCount} shards, past the budget of " +
                    $"{options.Value.CreateMemoryBudget / (1 << 20):N0} MiB per silo (OrleansVectors:CreateMemoryBudget). Use fewer IVF lists or shards.");
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
        await PersistAsync(s =>
        {
            (s.Spec, s.Generation, s.IdBlockEnd, s.Mode) = (spec, Guid.NewGuid(), 0, IdMode.Unset);
        });
        _nextId = 0;
        _manifest = (true, null, 0);
        var topology = RequireTopology();
        await topology.FanOutAsync(GrainFactory, async (shard, _, _) =>
        {
            await shard.InitializeAsync(spec, topology.Generation);
            return true;
        }, FanOutPolicy.AllShards);
        LogCreated(Name, spec.ShardCount, spec.Factory);
    }

    private ShardTopology RequireTopology() =>
        state.State.Spec is { } spec ? new ShardTopology(new ShardMap(Name, spec, state.State.Generation)) : throw new IndexNotFoundException(Name);

    private void RememberLease(Guid batchId, Task<IdLease> lease)
    {
        _leases[batchId] = lease;
        _leaseOrder.Enqueue(batchId);
        while (_leaseOrder.Count > ShardGrain.RememberedBatches)
        {
            _leases.Remove(_leaseOrder.Dequeue());
        }
    }

    /// <summary>
    /// Applies a change to the state and writes it; writes never overlap. With <paramref name="stillNeeded"/>, a
    /// change that a write made meanwhile already covers is skipped.
    /// </summary>
    private async Task PersistAsync(Action<IndexState> change, Func<bool>? stillNeeded = null)
    {
        await _stateWrite.WaitAsync();
        try
        {
            if (stillNeeded?.Invoke() == false)
            {
                return;
            }

            change(state.State);
            await state.WriteStateAsync();
            _durableIdBlockEnd = state.State.IdBlockEnd;
        }
        catch
        {
            // memory may be ahead of storage: start again from storage on the next call
            DeactivateOnIdle();
            throw;
        }
        finally
        {
            _stateWrite.Release();
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
