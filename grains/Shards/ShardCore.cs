using System.Buffers;
using Microsoft.Extensions.Logging;
using OrleansVectors.GrainInterfaces;
using OrleansVectors.Grains.Durability;
using OrleansVectors.Grains.Models;
using OrleansVectors.Grains.Storage;
using OrleansVectors.Grains.Threading;
using OrleansVectors.Inference.Faiss;

namespace OrleansVectors.Grains.Shards;

/// <summary>
/// The durable core of one shard, knowing nothing of grains (no grain, grain factory or request context; it speaks
/// the shard protocol's value and exception types): a faiss index keyed by global ids, made durable by a write-ahead
/// log and snapshots in an <see cref="IDurableStore"/>; the replay of that log after a restart; the window of recent
/// batch ids that stores a retried add once; and a <see cref="Version"/> that changes with every change. A host
/// (<see cref="ShardGrain"/>) gives it its name, tells it which generation to load, and turns messages into calls.
/// This file: the open generation, reads and lifetime. Changes are in ShardCore.Changes.cs, loading and restoring in
/// ShardCore.Restore.cs, snapshots in ShardCore.Snapshot.cs.
/// </summary>
/// <remarks>
/// <para>Thread-safe. Changes enter the log in one order, under <see cref="_gate"/>, and are applied to faiss in that
/// same order, so a replay rebuilds the same index; adds that arrive together share one log write. Searches run
/// alongside everything (the FaissIndex wrapper's reader/writer lock keeps them apart from mutations).</para>
/// <para>One generation of the index is open at a time. A call names the generation it expects: with none open it
/// fails with <see cref="ShardLostException"/>, with another one (or one replaced while the call waited) with
/// <see cref="StaleGenerationException"/>.</para>
/// <para>A change that faiss applied but the log did not take, or that the log took but faiss did not apply, leaves
/// memory apart from the log: the call fails and <see cref="NeedsReload"/> turns true; the host then lets the core go
/// and loads it again from the log.</para>
/// </remarks>
/// <param name="name">The shard's name in messages and logs (the grain key, "index/shard").</param>
/// <param name="store">Where the log and the snapshots live.</param>
/// <param name="workers">The threads faiss calls run on.</param>
/// <param name="models">Embeds raw inputs for indexes that have a model; the log holds embeddings only.</param>
/// <param name="options">The idempotency window and the search engine.</param>
/// <param name="logger">Where restores, torn records, snapshots and failed changes are reported.</param>
internal sealed partial class ShardCore(string name, IDurableStore store, FaissWorkers workers, IModelHost models, ShardCoreOptions options, ILogger logger)
    : IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    // guards the open state's CallerIds and Batches and the batches in flight (_adding)
    private readonly Lock _sync = new();
    private readonly Dictionary<Guid, Lazy<Task<BatchReceipt>>> _adding = [];
    private ShardState? _state;
    private Task _applied = Task.CompletedTask;
    private long _version;
    private long _addedSinceSnapshot;
    private volatile bool _needsReload;

    /// <summary>The shard's name in messages and logs.</summary>
    public string Name => name;

    /// <summary>The generation open now, or null when none is (before a load, after a drop).</summary>
    public Guid? Generation => Volatile.Read(ref _state)?.Generation;

    /// <summary>The vectors the open generation holds (0 when none is open).</summary>
    public long Count => Volatile.Read(ref _state)?.Index.Count ?? 0;

    /// <summary>The search engine of the open generation's index in words, or null when none is open.</summary>
    public string? SearchEngineDescription => Volatile.Read(ref _state)?.Index.SearchEngineDescription;

    /// <summary>
    /// A number that changes with every change to what the shard holds: each add, remove and training applied to
    /// faiss, and each load, restore or drop. Equal versions mean the same vectors under the same ids.
    /// </summary>
    public long Version => Interlocked.Read(ref _version);

    /// <summary>Vectors added since the last snapshot (or load) of the open generation.</summary>
    public long AddedSinceSnapshot => Interlocked.Read(ref _addedSinceSnapshot);

    /// <summary>Whether a failed change left memory apart from the log, so the core must be loaded again from the log.</summary>
    public bool NeedsReload => _needsReload;

    /// <summary>The open generation's faiss index, for reads (k-means); changes go through the core.</summary>
    /// <exception cref="ShardLostException">No generation is open.</exception>
    /// <exception cref="StaleGenerationException">Another generation is open.</exception>
    public FaissIndex IndexOf(Guid generation) => Require(generation).Index;

    /// <summary>The <paramref name="k"/> nearest stored vectors of each query embedding, with global ids.</summary>
    /// <exception cref="ShardLostException">No generation is open.</exception>
    /// <exception cref="StaleGenerationException">Another generation is open.</exception>
    public async Task<NeighborResults> SearchAsync(Guid generation, VectorBatch queries, int k, QueryOptions options, CancellationToken cancellationToken = default)
    {
        var state = Require(generation);
        var index = state.Index;
        var parameters = ToSearchParameters(index, options);
        if (index.Count == 0 || !index.IsTrained)
        {
            return NoNeighbors(state.Spec.Metric, queries.Count, k);
        }

        // faiss writes into pooled buffers; the reply copies them once. The worker's task ends only when the search has
        // (a cancelled one never started), so the buffers go back to the pool after faiss is done with them.
        var total = queries.Count * k;
        var distances = ArrayPool<float>.Shared.Rent(total);
        var labels = ArrayPool<long>.Shared.Rent(total);
        try
        {
            await RunOnFaissWorkerAsync(() => index.Search(queries.Values, k, distances.AsSpan(0, total), labels.AsSpan(0, total), parameters), cancellationToken).ConfigureAwait(false);
            return NeighborResults.Create(distances.AsSpan(0, total), labels.AsSpan(0, total), queries.Count, k);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(distances);
            ArrayPool<long>.Shared.Return(labels);
        }
    }

    /// <summary>Every stored vector within <paramref name="radius"/> of each query embedding.</summary>
    /// <exception cref="ReplyTooLargeException">The answer would not fit in one reply.</exception>
    /// <exception cref="ShardLostException">No generation is open.</exception>
    /// <exception cref="StaleGenerationException">Another generation is open.</exception>
    public async Task<RangeResults> RangeSearchAsync(Guid generation, VectorBatch queries, float radius, QueryOptions options, CancellationToken cancellationToken = default)
    {
        var state = Require(generation);
        var index = state.Index;
        var parameters = ToSearchParameters(index, options);
        if (index.Count == 0 || !index.IsTrained)
        {
            return RangeResults.Create(new long[queries.Count + 1], [], []);
        }

        var result = await RunOnFaissWorkerAsync(() => index.RangeSearch(queries.Values, radius, parameters), cancellationToken).ConfigureAwait(false);
        ReplyTooLargeException.ThrowIfPastLimit(
            $"Shard {state.Location.Shard} of index '{state.Location.Index}'", queries.Count, result.Labels.Length, "send fewer queries per call or use a tighter threshold");
        return RangeResults.Create(result.Offsets, result.Distances, result.Labels);
    }

    /// <summary>Which of <paramref name="ids"/> the shard holds as caller-given ids.</summary>
    /// <exception cref="ShardLostException">No generation is open.</exception>
    /// <exception cref="StaleGenerationException">Another generation is open.</exception>
    public long[] FindExisting(Guid generation, long[] ids)
    {
        var state = Require(generation);
        ArgumentNullException.ThrowIfNull(ids);
        lock (_sync)
        {
            return [.. ids.Where(state.CallerIds.Contains)];
        }
    }

    /// <summary>
    /// Closes the open generation once the changes in flight are applied: its log is closed and its index freed. Its
    /// objects stay in the store (the index removes them). Calls that name it fail with <see cref="ShardLostException"/>.
    /// </summary>
    public async Task DropAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            await DrainAppliedAsync().ConfigureAwait(false);
            await ReplaceStateAsync(null).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Closes the open generation without waiting for changes in flight, to free memory: nothing here is needed for
    /// durability (acknowledged changes are in the log).
    /// </summary>
    public Task CloseAsync() => ReplaceStateAsync(null);

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await CloseAsync().ConfigureAwait(false);
        _gate.Dispose();
    }

    /// <summary>
    /// Runs faiss work on the faiss worker threads (<see cref="FaissWorkers"/>). A <see cref="FaissException"/> becomes an
    /// <see cref="InvalidOperationException"/> with faiss's message and the shard's name: exceptions cross the wire,
    /// and faiss's type is not one that serializes.
    /// </summary>
    public Task RunOnFaissWorkerAsync(Action work, CancellationToken cancellationToken = default) =>
        RunOnFaissWorkerAsync(() =>
        {
            work();
            return true;
        }, cancellationToken);

    /// <inheritdoc cref="RunOnFaissWorkerAsync(Action, CancellationToken)"/>
    public async Task<T> RunOnFaissWorkerAsync<T>(Func<T> work, CancellationToken cancellationToken = default)
    {
        try
        {
            return await workers.Run(work, cancellationToken).ConfigureAwait(false);
        }
        catch (FaissException e)
        {
            throw new InvalidOperationException($"Shard '{name}': {e.Message}");
        }
    }

    /// <summary>The open state, when it is of the caller's generation.</summary>
    private ShardState Require(Guid generation)
    {
        var state = Volatile.Read(ref _state) ?? throw new ShardLostException(name);
        return generation == state.Generation ? state : throw new StaleGenerationException(name);
    }

    /// <summary>Throws when the state a call started with was replaced meanwhile (a load, a restore or a drop).</summary>
    private void EnsureCurrent(ShardState state)
    {
        var current = Volatile.Read(ref _state);
        if (!ReferenceEquals(state, current))
        {
            throw current is null ? new ShardLostException(name) : new StaleGenerationException(name);
        }
    }

    private async Task ReplaceStateAsync(ShardState? next)
    {
        var previous = Interlocked.Exchange(ref _state, next);
        Interlocked.Exchange(ref _addedSinceSnapshot, 0);
        Interlocked.Increment(ref _version);
        if (next is not null)
        {
            // loaded from the log: memory and log agree again
            _needsReload = false;
        }

        if (previous is not null)
        {
            await previous.DisposeAsync().ConfigureAwait(false);
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

    private static NeighborResults NoNeighbors(VectorMetric metric, int queryCount, int k)
    {
        var distances = new float[queryCount * k];
        Array.Fill(distances, TopKMerge.Sentinel(metric));
        var labels = new long[queryCount * k];
        Array.Fill(labels, -1L);
        return NeighborResults.Create(distances, labels, queryCount, k);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Shard {Shard}: a logged change could not be applied ({Reason}); reloading from the log")]
    private partial void LogApplyFailed(string shard, string reason);
}
