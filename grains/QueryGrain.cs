using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using OrleansVectors.GrainInterfaces;
using OrleansVectors.Grains.Diagnostics;
using OrleansVectors.Grains.Models;
using OrleansVectors.Grains.Topology;

namespace OrleansVectors.Grains;

/// <summary>
/// The query front: a reentrant stateless worker on every silo. It reads the index's shard map (cached, and
/// refreshed when a shard says the index was re-created), embeds the queries once with the silo's model host,
/// asks every shard for its top-k with bounded concurrency and a per-shard timeout, and merges exactly.
/// </summary>
[StatelessWorker, Reentrant]
public sealed partial class QueryGrain(IModelHost models, OrleansVectorsMetrics metrics, ILogger<QueryGrain> logger) : Grain, IQueryGrain
{
    private readonly ShardMapCache _maps = new();

    /// <inheritdoc/>
    public async Task<NeighborResults> SearchAsync(string index, VectorBatch queries, int k, QueryOptions? options = null, CancellationToken cancellationToken = default)
    {
        ResourceNames.RequireIndexName(index);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(k, QueryOptions.MaxK);
        ArgumentNullException.ThrowIfNull(queries);
        ReplyTooLargeException.ThrowIfPastLimit(
            $"Index '{index}'", queries.Count, (long)queries.Count * k,
            $"send at most {Math.Max(1, QueryOptions.MaxReplyBytes / (ReplyTooLargeException.BytesPerResult * k))} queries per call with k = {k} (VectorIndexClient splits its queries for you)");
        options = Check(options);
        var started = Stopwatch.GetTimestamp();
        var merged = await _maps.WithFreshTopologyAsync(GrainFactory, index, async topology =>
        {
            var embeddings = await Embed(topology, queries);
            var results = await FanOutAsync(topology, options, (shard, ct) => shard.SearchAsync(topology.Generation, embeddings, k, options, ct), cancellationToken);
            return TopKMerge.Merge([.. results.Values], embeddings.Count, k, topology.Spec.Metric, results.Failed);
        });
        metrics.SearchCompleted(index, "knn", Stopwatch.GetElapsedTime(started));
        return merged;
    }

    /// <inheritdoc/>
    public async Task<RangeResults> MatchAsync(string index, VectorBatch queries, float? threshold = null, QueryOptions? options = null, CancellationToken cancellationToken = default)
    {
        ResourceNames.RequireIndexName(index);
        options = Check(options);
        var started = Stopwatch.GetTimestamp();
        var merged = await _maps.WithFreshTopologyAsync(GrainFactory, index, async topology =>
        {
            var radius = threshold ?? (float?)topology.Spec.MatchThreshold
                ?? throw new InvalidOperationException($"No match threshold: pass one to this call or create index '{index}' with a MatchThreshold.");
            IndexSpec.RequireThreshold(radius, topology.Spec.Metric, nameof(threshold));
            var embeddings = await Embed(topology, queries);
            var results = await FanOutAsync(topology, options, (shard, ct) => shard.RangeSearchAsync(topology.Generation, embeddings, radius, options, ct), cancellationToken);
            ReplyTooLargeException.ThrowIfPastLimit(
                $"Index '{index}'", embeddings.Count, results.Values.Sum(r => (long)r.Labels.Length),
                "send fewer queries per call or use a tighter threshold (VectorIndexClient splits its queries for you)");
            return TopKMerge.MergeRanges([.. results.Values], embeddings.Count, topology.Spec.Metric, results.Failed);
        });
        metrics.SearchCompleted(index, "range", Stopwatch.GetElapsedTime(started));
        return merged;
    }

    /// <inheritdoc/>
    public async Task<VectorBatch> EmbedAsync(string index, VectorBatch inputs) =>
        await _maps.WithFreshTopologyAsync(GrainFactory, ResourceNames.RequireIndexName(index), topology => Embed(topology, inputs));

    private static QueryOptions Check(QueryOptions? options)
    {
        options ??= QueryOptions.Default;
        options.Validate();
        return options;
    }

    private async Task<VectorBatch> Embed(ShardTopology topology, VectorBatch queries)
    {
        InputChecks.Require(topology.Spec, queries, nameof(queries));
        return await models.EmbedAsync(topology.Spec, queries);
    }

    private async Task<FanOutResult<T>> FanOutAsync<T>(
        ShardTopology topology, QueryOptions options, Func<IShardGrain, CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await topology.FanOutAsync(GrainFactory, (shard, _, ct) => call(shard, ct), FanOutPolicy.Of(options), cancellationToken);
        }
        catch (ShardUnavailableException e)
        {
            LogShardFailed(topology.Index, e.Shard, e.Message);
            throw;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Index {Index}: shard {Shard} failed: {Reason}")]
    private partial void LogShardFailed(string index, int shard, string reason);
}
