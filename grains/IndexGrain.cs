using Microsoft.Extensions.Logging;
using OrleansVectors.GrainInterfaces;
using OrleansVectors.Inference.Faiss;

namespace OrleansVectors.Grains;

/// <summary>
/// One named index: validates and keeps the spec, allocates ids, routes each add batch whole to the least-filled
/// shard and acknowledges it once the shard holds it. Adds run one at a time, which is what makes ids contiguous
/// in acknowledgement order; the shard map interleaves with them.
/// </summary>
public sealed partial class IndexGrain(
    [PersistentState("index", OrleansVectorsStorage.Name)] IPersistentState<IndexState> state,
    ILogger<IndexGrain> logger) : Grain, IIndexGrain
{
    private string Name => this.GetPrimaryKeyString();

    /// <inheritdoc/>
    public async Task<IndexDescription> CreateAsync(IndexSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        if (state.State.Spec is { } existing)
        {
            return existing == spec
                ? await DescribeAsync()
                : throw new InvalidOperationException($"Index '{Name}' already exists with a different spec; drop it first to change it.");
        }

        // Fail here, on a bad factory string, before any shard exists (without faiss's exception as the inner
        // one: exceptions cross the wire, and FaissException is not an Orleans-serializable type).
        try
        {
            FaissIndex.Create(spec.Dimension, ShardGrain.ShardFactory(spec.Factory), ShardGrain.ToFaiss(spec.Metric)).Dispose();
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException(e.Message, nameof(spec));
        }

        if (spec.Model is { } model && !File.Exists(model))
        {
            throw new ArgumentException($"The model file '{model}' does not exist on silo {RuntimeIdentity}; every silo must be able to read it.", nameof(spec));
        }

        var generation = Guid.NewGuid();
        await Task.WhenAll(Enumerable.Range(0, spec.ShardCount).Select(i => Shard(i).InitializeAsync(spec, generation)));
        state.State = new IndexState { Spec = spec, Generation = generation, ShardCounts = new long[spec.ShardCount] };
        await state.WriteStateAsync();
        LogCreated(Name, spec.ShardCount, spec.Factory);
        return await DescribeAsync();
    }

    /// <inheritdoc/>
    public async Task<IndexDescription> DescribeAsync()
    {
        var spec = RequireSpec();
        var shards = await Task.WhenAll(Enumerable.Range(0, spec.ShardCount).Select(i => Shard(i).DescribeAsync()));
        return new IndexDescription(Name, spec, state.State.ShardCounts.Sum(), shards);
    }

    /// <inheritdoc/>
    public Task<long> CountAsync()
    {
        RequireSpec();
        return Task.FromResult(state.State.ShardCounts.Sum());
    }

    /// <inheritdoc/>
    public async Task DropAsync()
    {
        if (state.State.Spec is not { } spec)
        {
            return;
        }

        await Task.WhenAll(Enumerable.Range(0, spec.ShardCount).Select(i => Shard(i).DropAsync()));
        await state.ClearStateAsync();
        state.State = new IndexState();
        LogDropped(Name);
    }

    /// <inheritdoc/>
    public Task<ShardMap> GetShardMapAsync() => Task.FromResult(new ShardMap(Name, RequireSpec(), state.State.Generation));

    /// <inheritdoc/>
    public async Task<AddReceipt> AddAsync(VectorBatch vectors, long[]? ids = null)
    {
        var spec = RequireSpec();
        InputChecks.Require(spec, vectors, nameof(vectors));
        var mode = ids is null ? IdMode.Auto : IdMode.Caller;
        if (state.State.Mode != IdMode.Unset && state.State.Mode != mode)
        {
            throw new InvalidOperationException(state.State.Mode == IdMode.Auto
                ? $"Index '{Name}' numbers its vectors itself: add without ids."
                : $"Index '{Name}' takes caller ids: give an id for every vector.");
        }

        long[] assigned;
        if (ids is null)
        {
            assigned = new long[vectors.Count];
            for (var i = 0; i < assigned.Length; i++)
            {
                assigned[i] = state.State.NextId + i;
            }
        }
        else
        {
            await CheckCallerIds(spec, vectors, ids);
            assigned = ids;
        }

        // Whole batch to the least-filled shard: counts never differ by more than one batch.
        var counts = state.State.ShardCounts;
        var target = Array.IndexOf(counts, counts.Min());
        try
        {
            await Shard(target).AddAsync(state.State.Generation, vectors, assigned, callerIds: ids is not null);
        }
        catch (Exception e) when (e is TimeoutException or OrleansException)
        {
            // The call failed on the way, not in the shard: the batch may have landed. Ask before giving its
            // ids out again; if it did land, acknowledge it.
            if (!await Landed(target, assigned[0]))
            {
                throw;
            }
        }

        counts[target] += vectors.Count;
        state.State.Mode = mode;
        var firstId = ids is null ? state.State.NextId : -1;
        if (ids is null)
        {
            state.State.NextId += vectors.Count;
        }

        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            // memory is ahead of storage: reload from storage on the next call rather than hand out ids twice
            DeactivateOnIdle();
            throw;
        }

        return new AddReceipt(firstId, vectors.Count, target);
    }

    /// <inheritdoc/>
    public async Task TrainAsync(VectorBatch sample)
    {
        var spec = RequireSpec();
        InputChecks.Require(spec, sample, nameof(sample));
        await Task.WhenAll(Enumerable.Range(0, spec.ShardCount).Select(i => Shard(i).TrainAsync(state.State.Generation, sample)));
    }

    /// <inheritdoc/>
    public async Task<long> RemoveAsync(long[] ids)
    {
        var spec = RequireSpec();
        ArgumentNullException.ThrowIfNull(ids);
        var removed = await Task.WhenAll(Enumerable.Range(0, spec.ShardCount).Select(i => Shard(i).RemoveAsync(state.State.Generation, ids)));
        var counts = await Task.WhenAll(Enumerable.Range(0, spec.ShardCount).Select(i => Shard(i).DescribeAsync()));
        state.State.ShardCounts = [.. counts.Select(c => c.Count)];
        await state.WriteStateAsync();
        return removed.Sum();
    }

    private async Task<bool> Landed(int shard, long firstId)
    {
        try
        {
            return (await Shard(shard).FindExistingAsync(state.State.Generation, [firstId])).Length > 0;
        }
        catch (Exception e) when (e is TimeoutException or OrleansException or ShardLostException)
        {
            return false;
        }
    }

    private IShardGrain Shard(int shard) => GrainFactory.GetGrain<IShardGrain>(ShardGrain.Key(Name, shard));

    private IndexSpec RequireSpec() => state.State.Spec ?? throw new IndexNotFoundException(Name);

    private async Task CheckCallerIds(IndexSpec spec, VectorBatch vectors, long[] ids)
    {
        if (ids.Length != vectors.Count)
        {
            throw new ArgumentException($"{ids.Length} ids were given for {vectors.Count} vectors; there must be exactly one id per vector.", nameof(ids));
        }

        var negative = Array.FindIndex(ids, id => id < 0);
        if (negative >= 0)
        {
            throw new ArgumentException($"Ids must be non-negative; ids[{negative}] is {ids[negative]}.", nameof(ids));
        }

        var seen = new HashSet<long>();
        var repeated = Array.FindIndex(ids, id => !seen.Add(id));
        if (repeated >= 0)
        {
            throw new ArgumentException($"Id {ids[repeated]} appears twice in the batch.", nameof(ids));
        }

        var present = await Task.WhenAll(Enumerable.Range(0, spec.ShardCount).Select(i => Shard(i).FindExistingAsync(state.State.Generation, ids)));
        var duplicate = present.SelectMany(p => p).Cast<long?>().FirstOrDefault();
        if (duplicate is { } id)
        {
            throw new ArgumentException($"Id {id} is already in index '{Name}'.", nameof(ids));
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Index {Index} created with {Shards} shards of {Factory}")]
    private partial void LogCreated(string index, int shards, string factory);

    [LoggerMessage(Level = LogLevel.Information, Message = "Index {Index} dropped")]
    private partial void LogDropped(string index);
}
