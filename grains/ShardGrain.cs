using Microsoft.Extensions.Logging;
using OrleansVectors.GrainInterfaces;
using OrleansVectors.Grains.Models;
using OrleansVectors.Grains.Placement;
using OrleansVectors.Grains.Threading;
using OrleansVectors.Inference.Faiss;

namespace OrleansVectors.Grains;

/// <summary>
/// One shard: a faiss index (keyed by global ids) in this silo's memory. faiss work runs on the silo's faiss
/// worker threads; searches are read-only and interleave with each other.
/// </summary>
/// <remarks>
/// The vectors live only in memory until snapshots exist: a shard reactivated after its silo failed knows it
/// was never initialized in this activation and refuses every call with <see cref="InvalidOperationException"/>,
/// rather than answering from an empty index.
/// </remarks>
[ShardPlacement]
[CollectionAgeLimit(AlwaysActive = true)] // the vectors live in this activation: idle collection would drop them
public sealed partial class ShardGrain(IModelHost models, FaissWorkers workers, ILogger<ShardGrain> logger) : Grain, IShardGrain
{
    private readonly HashSet<long> _ids = [];
    private FaissIndex? _index;
    private IndexSpec? _spec;
    private Guid _generation;

    /// <inheritdoc/>
    public Task InitializeAsync(IndexSpec spec, Guid generation)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (_index is not null && _generation == generation)
        {
            return Task.CompletedTask;
        }

        var index = FaissIndex.Create(spec.Dimension, ShardFactory(spec.Factory), ToFaiss(spec.Metric));
        _index?.Dispose();
        _ids.Clear();
        (_index, _spec, _generation) = (index, spec, generation);
        LogInitialized(this.GetPrimaryKeyString(), spec.Factory, RuntimeIdentity);
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public async Task<long> AddAsync(Guid generation, VectorBatch vectors, long[] ids, bool callerIds)
    {
        var (index, spec) = Require(generation);
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Length != vectors.Count)
        {
            throw new ArgumentException($"{ids.Length} ids for {vectors.Count} vectors.", nameof(ids));
        }

        // auto-numbered ids cannot collide; only caller ids are tracked
        var duplicate = callerIds ? ids.FirstOrDefault(_ids.Contains, -1) : -1;
        if (duplicate >= 0)
        {
            throw new ArgumentException($"Id {duplicate} is already in the index.", nameof(ids));
        }

        var embeddings = await models.EmbedAsync(spec, vectors);
        await Faiss(() =>
        {
            if (!index.IsTrained)
            {
                index.Train(embeddings.Values);
            }

            index.AddWithIds(embeddings.Values, ids);
            return true;
        });
        if (callerIds)
        {
            _ids.UnionWith(ids);
        }

        return index.Count;
    }

    /// <inheritdoc/>
    public async Task TrainAsync(Guid generation, VectorBatch sample)
    {
        var (index, spec) = Require(generation);
        var embeddings = await models.EmbedAsync(spec, sample);
        await Faiss(() =>
        {
            index.Train(embeddings.Values);
            return true;
        });
    }

    /// <inheritdoc/>
    public async Task<NeighborResults> SearchAsync(Guid generation, VectorBatch queries, int k, QueryOptions options, CancellationToken cancellationToken = default)
    {
        var (index, _) = Require(generation);
        var parameters = Parameters(index, options);
        if (index.Count == 0 || !index.IsTrained)
        {
            return Empty(queries.Count, k);
        }

        var result = await Faiss(() => index.Search(queries.Values, k, parameters), cancellationToken);
        return NeighborResults.Create(result.Distances, result.Labels, result.QueryCount, result.K);
    }

    /// <inheritdoc/>
    public async Task<RangeResults> RangeSearchAsync(Guid generation, VectorBatch queries, float radius, QueryOptions options, CancellationToken cancellationToken = default)
    {
        var (index, _) = Require(generation);
        var parameters = Parameters(index, options);
        if (index.Count == 0 || !index.IsTrained)
        {
            return RangeResults.Create(new long[queries.Count + 1], [], []);
        }

        var result = await Faiss(() => index.RangeSearch(queries.Values, radius, parameters), cancellationToken);
        return RangeResults.Create(result.Offsets, result.Distances, result.Labels);
    }

    /// <inheritdoc/>
    public Task<long[]> FindExistingAsync(Guid generation, long[] ids)
    {
        var (index, _) = Require(generation);
        return Task.FromResult(ids.Where(id => _ids.Contains(id) || Holds(index, id)).ToArray());
    }

    /// <summary>Whether the index holds <paramref name="id"/> (auto-numbered ids are not in the id set).</summary>
    private static bool Holds(FaissIndex index, long id)
    {
        if (!index.HasIdMap)
        {
            return false;
        }

        try
        {
            index.Reconstruct(id);
            return true;
        }
        catch (KeyNotFoundException)
        {
            return false;
        }
    }

    /// <inheritdoc/>
    public async Task<long> RemoveAsync(Guid generation, long[] ids)
    {
        var (index, _) = Require(generation);
        var removed = await Faiss(() => index.Remove(ids));
        _ids.ExceptWith(ids);
        return removed;
    }

    /// <inheritdoc/>
    public Task<ShardDescription> DescribeAsync() =>
        Task.FromResult(new ShardDescription(ShardNumber(this.GetPrimaryKeyString()), _index?.Count ?? 0, RuntimeIdentity));

    /// <inheritdoc/>
    public Task DropAsync()
    {
        _index?.Dispose();
        _index = null;
        _ids.Clear();
        DeactivateOnIdle();
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _index?.Dispose();
        _index = null;
        return Task.CompletedTask;
    }

    /// <summary>The grain key of shard <paramref name="shard"/> of <paramref name="index"/>.</summary>
    public static string Key(string index, int shard) => $"{index}/{shard}";

    /// <summary>The shard number in a shard key.</summary>
    public static int ShardNumber(string key) =>
        int.Parse(key.AsSpan(key.LastIndexOf('/') + 1), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// The factory string of a shard's index, which keeps global ids: IVF types store ids themselves; the others
    /// go under an id map.
    /// </summary>
    public static string ShardFactory(string factory) =>
        factory.Contains("IVF", StringComparison.Ordinal) ? factory : "IDMap2," + factory;

    /// <summary>The faiss metric of a spec's metric.</summary>
    public static FaissMetric ToFaiss(VectorMetric metric) => metric == VectorMetric.L2 ? FaissMetric.L2 : FaissMetric.InnerProduct;

    private static FaissSearchParameters? Parameters(FaissIndex index, QueryOptions options) =>
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
    private async Task<T> Faiss<T>(Func<T> work, CancellationToken cancellationToken = default)
    {
        try
        {
            return await workers.Run(work, cancellationToken);
        }
        catch (FaissException e)
        {
            throw new InvalidOperationException($"Shard '{this.GetPrimaryKeyString()}': {e.Message}");
        }
    }

    private NeighborResults Empty(int queryCount, int k)
    {
        var distances = new float[queryCount * k];
        Array.Fill(distances, TopKMerge.Sentinel(_spec!.Metric));
        var labels = new long[queryCount * k];
        Array.Fill(labels, -1L);
        return NeighborResults.Create(distances, labels, queryCount, k);
    }

    private (FaissIndex Index, IndexSpec Spec) Require(Guid generation)
    {
        if (_index is null || _spec is null)
        {
            throw new ShardLostException(this.GetPrimaryKeyString());
        }

        if (generation != _generation)
        {
            throw new StaleGenerationException(this.GetPrimaryKeyString());
        }

        return (_index, _spec);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Shard {Shard} initialized ({Factory}) on {Silo}")]
    private partial void LogInitialized(string shard, string factory, string silo);
}
