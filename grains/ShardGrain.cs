using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using OrleansVectors.GrainInterfaces;
using OrleansVectors.Grains.Diagnostics;
using OrleansVectors.Grains.Durability;
using OrleansVectors.Grains.Hosting;
using OrleansVectors.Grains.Models;
using OrleansVectors.Grains.Placement;
using OrleansVectors.Grains.Storage;
using OrleansVectors.Grains.Threading;
using OrleansVectors.Grains.Topology;
using OrleansVectors.Inference.Faiss;

namespace OrleansVectors.Grains;

/// <summary>
/// One shard: a faiss index (keyed by global ids) in this silo's memory, made durable by a write-ahead log and
/// snapshots in the silo's <see cref="IDurableStore"/>. An activation anywhere restores the newest committed
/// snapshot and replays the log after it, in the background; calls wait for that (bounded by
/// <see cref="OrleansVectorsOptions.RestoreWait"/>).
/// </summary>
/// <remarks>
/// The grain is reentrant: searches run alongside everything else (faiss's own reader/writer lock keeps them
/// apart from mutations). Changes enter the log in one order, under <see cref="_gate"/>, and are applied to
/// faiss in that same order, so a replay rebuilds the same index; adds that arrive together share one log write.
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
    internal const int RememberedBatches = 100_000;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<Guid, Task<AddReceipt>> _adding = [];
    private Task _ready = Task.CompletedTask;
    private ShardState? _state;
    private Task _applied = Task.CompletedTask;
    private long _addedSinceSnapshot;
    private DateTime _snapshotRequested;
    private (string Index, int Shard)? _identity;
    private OrleansVectorsMetrics.LocalShard? _local;
    private long _changes; // adds, removes and trainings applied by this activation: tells a kept k-means assignment is stale

    private string Key => this.GetPrimaryKeyString();

    /// <inheritdoc/>
    public void Dispose()
    {
        _local?.Dispose();
        _gate.Dispose();
    }

    /// <inheritdoc/>
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // restoring may take longer than activation is allowed to: do it in the background and gate calls on it.
        // Until it ends, the silo's readiness says no (see SiloReadiness).
        var local = _local = metrics.ShardActivated(ShardIndexName, ShardNumber, () => _state?.Index.Count ?? 0);
        _ready = RestoreFromStoreAsync();
        _ready.ContinueWith(_ => local.Restored(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).Ignore();
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public async Task InitializeAsync(IndexSpec spec, Guid generation)
    {
        ArgumentNullException.ThrowIfNull(spec);
        await WaitForRestoreAsync(throwOnFailure: false);
        if (_state?.Generation == generation)
        {
            return;
        }

        await LoadAsync(new ShardMap(ShardIndexName, spec, generation));
        LogInitialized(Key, spec.Factory, RuntimeIdentity);
    }

    /// <inheritdoc/>
    public async Task<AddReceipt> AddAsync(Guid generation, Guid batchId, VectorBatch vectors, long[] ids, bool callerIds)
    {
        var state = await RequireAsync(generation);
        ArgumentNullException.ThrowIfNull(vectors);
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Length != vectors.Count)
        {
            throw new ArgumentException($"{ids.Length} ids for {vectors.Count} vectors.", nameof(ids));
        }

        if (state.Batches.TryGet(batchId) is { } stored)
        {
            return new AddReceipt(stored.FirstId, stored.Count, ShardNumber);
        }

        // a retry that arrives while the first attempt is still on its way shares its outcome
        if (_adding.TryGetValue(batchId, out var adding))
        {
            return await adding;
        }

        adding = AddCoreAsync(state, batchId, vectors, ids, callerIds);
        _adding[batchId] = adding;
        try
        {
            return await adding;
        }
        finally
        {
            _adding.Remove(batchId);
        }
    }

    /// <inheritdoc/>
    public async Task TrainAsync(Guid generation, VectorBatch sample)
    {
        var state = await RequireAsync(generation);
        var embeddings = await models.EmbedAsync(state.Spec, sample);
        var vectors = embeddings.Values.ToArray();
        var record = new LogRecord(LogRecordKind.Train, Guid.NewGuid(), CallerIds: false, TrainFirst: true, embeddings.Dimension, [], vectors);
        await ApplyThenLogAsync(state, record, index => index.Train(vectors));
    }

    /// <inheritdoc/>
    public async Task<NeighborResults> SearchAsync(Guid generation, VectorBatch queries, int k, QueryOptions options, CancellationToken cancellationToken = default)
    {
        var index = (await RequireAsync(generation)).Index;
        var parameters = ToSearchParameters(index, options);
        if (index.Count == 0 || !index.IsTrained)
        {
            return NoNeighbors(queries.Count, k);
        }

        var result = await RunOnFaissWorkerAsync(() => index.Search(queries.Values, k, parameters), cancellationToken);
        return NeighborResults.Create(result.Distances, result.Labels, result.QueryCount, result.K);
    }

    /// <inheritdoc/>
    public async Task<RangeResults> RangeSearchAsync(Guid generation, VectorBatch queries, float radius, QueryOptions options, CancellationToken cancellationToken = default)
    {
        var index = (await RequireAsync(generation)).Index;
        var parameters = ToSearchParameters(index, options);
        if (index.Count == 0 || !index.IsTrained)
        {
            return RangeResults.Create(new long[queries.Count + 1], [], []);
        }

        var result = await RunOnFaissWorkerAsync(() => index.RangeSearch(queries.Values, radius, parameters), cancellationToken);
        ReplyTooLargeException.ThrowIfPastLimit(
            $"Shard {ShardNumber} of index '{ShardIndexName}'", queries.Count, result.Labels.Length, "send fewer queries per call or use a tighter threshold");
        return RangeResults.Create(result.Offsets, result.Distances, result.Labels);
    }

    /// <inheritdoc/>
    public async Task<long[]> FindExistingAsync(Guid generation, long[] ids)
    {
        var state = await RequireAsync(generation);
        ArgumentNullException.ThrowIfNull(ids);
        return [.. ids.Where(state.CallerIds.Contains)];
    }

    /// <inheritdoc/>
    public async Task<long> RemoveAsync(Guid generation, long[] ids)
    {
        var state = await RequireAsync(generation);
        ArgumentNullException.ThrowIfNull(ids);
        long removed = 0;
        var record = new LogRecord(LogRecordKind.Remove, Guid.NewGuid(), CallerIds: false, TrainFirst: false, 0, ids, []);
        await ApplyThenLogAsync(state, record, index => removed = index.Remove(ids));
        state.CallerIds.ExceptWith(ids);
        return removed;
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
        var index = _state?.Index;
        return new ShardDescription(ShardNumber, index?.Count ?? 0, RuntimeIdentity, index?.SearchEngineDescription ?? "none (no index)");
    }

    /// <inheritdoc/>
    public async Task DropAsync()
    {
        await WaitForRestoreAsync(throwOnFailure: false);
        await _gate.WaitAsync();
        try
        {
            await DrainAppliedAsync();
            await ReplaceStateAsync(null);
        }
        finally
        {
            _gate.Release();
        }

        DeactivateOnIdle();
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

        await ReplaceStateAsync(null);
    }

    private int ShardNumber => Identity.Shard;

    private string ShardIndexName => Identity.Index;

    private (string Index, int Shard) Identity => _identity ??= ShardTopology.ParseShardKey(Key);

    private async Task<AddReceipt> AddCoreAsync(ShardState state, Guid batchId, VectorBatch vectors, long[] ids, bool callerIds)
    {
        var embeddings = await models.EmbedAsync(state.Spec, vectors);
        if (!state.Index.IsTrained)
        {
            // a batch that may train the index must be able to, or fail before it is logged: a replay would fail
            // again. Every batch logged while the index is untrained is checked, whichever ends up training it.
            await CheckTrainingAsync(state, embeddings);
        }

        Task applied;
        await _gate.WaitAsync();
        try
        {
            EnsureCurrent(state);
            if (callerIds)
            {
                var duplicate = Array.FindIndex(ids, state.CallerIds.Contains);
                if (duplicate >= 0)
                {
                    throw new ArgumentException($"Id {ids[duplicate]} is already in the index.", nameof(ids));
                }

                state.CallerIds.UnionWith(ids);
            }

            // the batch is immutable: the frame and faiss both read its values, with no copy between
            var frame = LogRecord.Frame(LogRecordKind.Add, batchId, callerIds, !state.Index.IsTrained, embeddings.Dimension, ids, embeddings.Values);
            applied = _applied = ApplyAfterAsync(_applied, state.Log.AppendAsync(frame), () => ApplyAdd(state.Index, embeddings.Values, ids));
        }
        finally
        {
            _gate.Release();
        }

        try
        {
            await applied;
        }
        catch
        {
            if (callerIds)
            {
                state.CallerIds.ExceptWith(ids);
            }

            throw;
        }

        state.Batches.Remember(new BatchReceipt(batchId, callerIds ? -1 : ids[0], ids.Length));
        NoteAdded(ids.Length);
        return new AddReceipt(callerIds ? -1 : ids[0], ids.Length, ShardNumber);
    }

    /// <summary>
    /// A change that runs alone (remove, train): applied first, so one that faiss refuses (a remove on HNSW, a
    /// training of an index that holds vectors) fails with nothing logged, never to fail every replay after it; then
    /// logged, and acknowledged once durable. If the log write fails, memory is ahead of the log: the activation
    /// ends and the next one starts again from the log.
    /// </summary>
    private async Task ApplyThenLogAsync(ShardState state, LogRecord record, Action<FaissIndex> apply)
    {
        await _gate.WaitAsync();
        try
        {
            EnsureCurrent(state);
            await DrainAppliedAsync();
            await RunOnFaissWorkerAsync(() =>
            {
                apply(state.Index);
                return true;
            });
            _changes++;
            try
            {
                await state.Log.AppendAsync(record.ToFrame());
            }
            catch (Exception e)
            {
                LogApplyFailed(Key, e.Message);
                DeactivateOnIdle();
                throw;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Applies a logged change once its log write is durable and every change logged before it is applied.</summary>
    private async Task ApplyAfterAsync(Task previous, Task logged, Action apply)
    {
        try
        {
            await previous;
        }
        catch (Exception)
        {
            // the previous change's failure is reported to its own caller
        }

        await logged;
        try
        {
            await RunOnFaissWorkerAsync(() =>
            {
                apply();
                return true;
            });
        }
        catch (Exception e)
        {
            // logged but not applied: memory no longer matches the log, so start again from the log
            LogApplyFailed(Key, e.Message);
            DeactivateOnIdle();
            throw;
        }
    }

    private static void ApplyAdd(FaissIndex index, ReadOnlySpan<float> values, ReadOnlySpan<long> ids)
    {
        if (!index.IsTrained)
        {
            index.Train(values);
        }

        index.AddWithIds(values, ids);
    }

    /// <summary>Trains a scratch copy of the shard's index type on <paramref name="vectors"/>, so a batch that cannot train it fails before it is logged.</summary>
    private async Task CheckTrainingAsync(ShardState state, VectorBatch vectors) =>
        await RunOnFaissWorkerAsync(() =>
        {
            using var scratch = state.Topology.CreateFaissIndex();
            scratch.Train(vectors.Values);
            return true;
        });

    /// <summary>Asks the index for a snapshot once this shard's log has grown past the threshold, again every minute until one runs.</summary>
    private void NoteAdded(int count)
    {
        _addedSinceSnapshot += count;
        _changes++;
        metrics.VectorsAdded(ShardIndexName, count);
        var every = options.Value.SnapshotEveryVectors;
        if (every > 0 && _addedSinceSnapshot >= every && DateTime.UtcNow - _snapshotRequested > TimeSpan.FromMinutes(1))
        {
            _snapshotRequested = DateTime.UtcNow;
            GrainFactory.GetGrain<IIndexGrain>(ShardIndexName).RequestSnapshotAsync().Ignore();
        }
    }

    private static FaissSearchParameters? ToSearchParameters(FaissIndex index, QueryOptions options) =>
        options.NProbe is null && options.EfSearch is null
            ? null
            : new FaissSearchParameters
            {
                NProbe = index.SupportsNProbe ? options.NProbe : null,
                EfSearch = index.SupportsEfSearch ? options.EfSearch : null,
            };

    /// <summary>
    /// Runs faiss work on the silo's faiss worker threads (<see cref="FaissWorkers"/>). A <see cref="FaissException"/> becomes an
    /// <see cref="InvalidOperationException"/> with faiss's message and the shard's name: exceptions cross the
    /// wire, and faiss's type is not an Orleans-serializable one.
    /// </summary>
    private async Task<T> RunOnFaissWorkerAsync<T>(Func<T> work, CancellationToken cancellationToken = default)
    {
        try
        {
            return await workers.Run(work, cancellationToken);
        }
        catch (FaissException e)
        {
            throw new InvalidOperationException($"Shard '{Key}': {e.Message}");
        }
    }

    private NeighborResults NoNeighbors(int queryCount, int k)
    {
        var distances = new float[queryCount * k];
        Array.Fill(distances, TopKMerge.Sentinel(_state!.Spec.Metric));
        var labels = new long[queryCount * k];
        Array.Fill(labels, -1L);
        return NeighborResults.Create(distances, labels, queryCount, k);
    }

    /// <summary>The shard's state once restored, for the caller's generation.</summary>
    private async Task<ShardState> RequireAsync(Guid generation)
    {
        await WaitForRestoreAsync(throwOnFailure: true);
        if (_state is not { } state)
        {
            throw new ShardLostException(Key);
        }

        return generation == state.Generation ? state : throw new StaleGenerationException(Key);
    }

    /// <summary>Throws when the state a call started with was replaced meanwhile (a restore or a drop).</summary>
    private void EnsureCurrent(ShardState state)
    {
        if (!ReferenceEquals(state, _state))
        {
            throw _state is null ? new ShardLostException(Key) : new StaleGenerationException(Key);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Shard {Shard} initialized ({Factory}) on {Silo}")]
    private partial void LogInitialized(string shard, string factory, string silo);

    [LoggerMessage(Level = LogLevel.Error, Message = "Shard {Shard}: a logged change could not be applied ({Reason}); reloading from the log")]
    private partial void LogApplyFailed(string shard, string reason);
}
