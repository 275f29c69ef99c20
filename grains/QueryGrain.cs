using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using OrleansVectors.GrainInterfaces;
using OrleansVectors.Grains.Models;
using OrleansVectors.Inference.Faiss;

namespace OrleansVectors.Grains;

/// <summary>
/// The query front: a reentrant stateless worker on every silo. It reads the index's shard map (cached, and
/// refreshed when a shard says the index was re-created), embeds the queries once with the silo's model host,
/// asks every shard for its top-k with bounded concurrency and a per-shard timeout, and merges exactly.
/// </summary>
[StatelessWorker, Reentrant]
public sealed partial class QueryGrain(IModelHost models, ILogger<QueryGrain> logger) : Grain, IQueryGrain
{
    private readonly Dictionary<string, ShardMap> _maps = [];

    /// <inheritdoc/>
    public async Task<NeighborResults> SearchAsync(string index, VectorBatch queries, int k, QueryOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(k, QueryOptions.MaxK);
        options = Check(options);
        return await WithFreshMap(index, async map =>
        {
            var embeddings = await Embed(map, queries);
            var (results, failed) = await FanOut(map, options, (shard, generation, ct) => shard.SearchAsync(generation, embeddings, k, options, ct), cancellationToken);
            return TopKMerge.Merge(results, embeddings.Count, k, map.Spec.Metric, failed);
        });
    }

    /// <inheritdoc/>
    public async Task<RangeResults> MatchAsync(string index, VectorBatch queries, float? threshold = null, QueryOptions? options = null, CancellationToken cancellationToken = default)
    {
        options = Check(options);
        return await WithFreshMap(index, async map =>
        {
            var radius = threshold ?? (float?)map.Spec.MatchThreshold
                ?? throw new InvalidOperationException($"No match threshold: pass one to this call or create index '{index}' with a MatchThreshold.");
            if (!float.IsFinite(radius))
            {
                throw new ArgumentException($"The threshold must be a finite number; got {radius}.", nameof(threshold));
            }

            var embeddings = await Embed(map, queries);
            var (results, failed) = await FanOut(map, options, (shard, generation, ct) => shard.RangeSearchAsync(generation, embeddings, radius, options, ct), cancellationToken);
            return TopKMerge.MergeRanges(results, embeddings.Count, map.Spec.Metric, failed);
        });
    }

    /// <inheritdoc/>
    public async Task<VectorBatch> EmbedAsync(string index, VectorBatch inputs) =>
        await WithFreshMap(index, map => Embed(map, inputs));

    private static QueryOptions Check(QueryOptions? options)
    {
        options ??= QueryOptions.Default;
        if (options.ShardTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.ShardTimeout, "ShardTimeout must be positive.");
        }

        if (options.MaxConcurrency < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxConcurrency, "MaxConcurrency must be at least 1.");
        }

        if (options.NProbe is < 1 || options.EfSearch is < 1 or > FaissIndex.MaxEfSearch)
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"NProbe must be at least 1 and EfSearch between 1 and {FaissIndex.MaxEfSearch}.");
        }

        return options;
    }

    private async Task<VectorBatch> Embed(ShardMap map, VectorBatch queries)
    {
        InputChecks.Require(map.Spec, queries, nameof(queries));
        return await models.EmbedAsync(map.Spec, queries);
    }

    /// <summary>
    /// Runs a query against the cached shard map. When a shard reports another generation, or holds nothing, the
    /// map is read again: a dropped index then fails with <see cref="IndexNotFoundException"/>, a re-created one is
    /// queried once more, and a shard that lost its vectors in the same generation fails the query.
    /// </summary>
    private async Task<T> WithFreshMap<T>(string index, Func<ShardMap, Task<T>> query)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(index);
        var map = await Map(index, refresh: false);
        try
        {
            return await query(map);
        }
        catch (Exception e) when (e is StaleGenerationException or ShardUnavailableException)
        {
            ShardMap fresh;
            try
            {
                fresh = await Map(index, refresh: true);
            }
            catch (IndexNotFoundException)
            {
                _maps.Remove(index);
                throw;
            }

            if (fresh.Generation == map.Generation && e is ShardUnavailableException)
            {
                throw;
            }

            return await query(fresh);
        }
    }

    private async Task<ShardMap> Map(string index, bool refresh)
    {
        if (refresh || !_maps.TryGetValue(index, out var map))
        {
            map = await GrainFactory.GetGrain<IIndexGrain>(index).GetShardMapAsync();
            _maps[index] = map;
        }

        return map;
    }

    private async Task<(List<T> Results, int[] Failed)> FanOut<T>(
        ShardMap map, QueryOptions options, Func<IShardGrain, Guid, CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        using var gate = new SemaphoreSlim(options.MaxConcurrency);
        var calls = Enumerable.Range(0, map.Spec.ShardCount).Select(async shard =>
        {
            try
            {
                await gate.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException e)
            {
                return (Shard: shard, Result: default(T), Error: (Exception?)e);
            }

            // the shard's work is cancelled too when the caller gives up or the shard runs out of time
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(options.ShardTimeout);
            try
            {
                var grain = GrainFactory.GetGrain<IShardGrain>(ShardGrain.Key(map.Name, shard));
                return (Shard: shard, Result: await call(grain, map.Generation, deadline.Token).WaitAsync(options.ShardTimeout, cancellationToken), Error: (Exception?)null);
            }
            catch (Exception e)
            {
                return (Shard: shard, Result: default(T), Error: e);
            }
            finally
            {
                gate.Release();
            }
        }).ToList();
        var outcomes = await Task.WhenAll(calls);

        cancellationToken.ThrowIfCancellationRequested();
        var failures = outcomes.Where(o => o.Error is not null).ToList();
        if (failures.Select(f => f.Error).OfType<StaleGenerationException>().FirstOrDefault() is { } stale)
        {
            throw stale;
        }

        if (failures.Count > 0 && (!options.AllowPartial || failures.Count == outcomes.Length))
        {
            var first = failures[0];

            LogShardFailed(map.Name, first.Shard, first.Error!.Message);
            var reason = first.Error is TimeoutException or OperationCanceledException
                ? $"no answer within {options.ShardTimeout.TotalSeconds:0.###} s"
                : first.Error.Message;
            throw new ShardUnavailableException(map.Name, first.Shard, reason);
        }

        return ([.. outcomes.Where(o => o.Error is null).Select(o => o.Result!)], [.. failures.Select(f => f.Shard)]);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Index {Index}: shard {Shard} failed: {Reason}")]
    private partial void LogShardFailed(string index, int shard, string reason);
}
