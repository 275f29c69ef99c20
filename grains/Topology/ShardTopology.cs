using System.Globalization;
using OrleansVectors.GrainInterfaces;
using OrleansVectors.Inference.Faiss;

namespace OrleansVectors.Grains.Topology;

/// <summary>
/// The shards of one generation of an index, built from its shard map: the one place that knows the shard key
/// format, how a spec maps to faiss, which shard an add goes to (its <see cref="Router"/>), and how a call fans out
/// over the shards.
/// </summary>
public sealed class ShardTopology(ShardMap map)
{
    /// <summary>The shard map this was built from.</summary>
    public ShardMap Map { get; } = map ?? throw new ArgumentNullException(nameof(map));

    /// <summary>The index name.</summary>
    public string Index => Map.Name;

    /// <summary>The index spec.</summary>
    public IndexSpec Spec => Map.Spec;

    /// <summary>The generation (a new one on every create).</summary>
    public Guid Generation => Map.Generation;

    /// <summary>The number of shards.</summary>
    public int ShardCount => Map.Spec.ShardCount;

    /// <summary>The faiss factory string of every shard's index.</summary>
    public string FaissFactory => FaissFactoryOf(Spec);

    /// <summary>The faiss metric of every shard's index.</summary>
    public FaissMetric FaissMetric => FaissMetricOf(Spec.Metric);

    /// <summary>The grain of shard <paramref name="shard"/>.</summary>
    public IShardGrain Shard(IGrainFactory grains, int shard)
    {
        ArgumentNullException.ThrowIfNull(grains);
        return grains.GetGrain<IShardGrain>(ShardKey(Index, shard));
    }

    /// <summary>Which shard each vector of an add goes to.</summary>
    public ShardRouter Router { get; } = new(map.Spec.ShardCount);

    /// <summary>
    /// Calls every shard, at most <see cref="FanOutPolicy.MaxConcurrency"/> at once, each within
    /// <see cref="FanOutPolicy.Timeout"/> (its cancellation token fires then too). A shard of another generation
    /// fails the whole call with <see cref="StaleGenerationException"/>; other failures fail it with
    /// <see cref="ShardUnavailableException"/> naming the first failed shard, unless the policy allows partial
    /// answers and some shard answered.
    /// </summary>
    public async Task<FanOutResult<T>> FanOutAsync<T>(
        IGrainFactory grains, Func<IShardGrain, int, CancellationToken, Task<T>> call, FanOutPolicy policy, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(call);
        ArgumentNullException.ThrowIfNull(policy);
        using var gate = new SemaphoreSlim(policy.MaxConcurrency);
        var calls = Enumerable.Range(0, ShardCount).Select(async shard =>
        {
            try
            {
                await gate.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException e)
            {
                return (Shard: shard, Result: default(T), Error: (Exception?)e);
            }

            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(policy.Timeout);
            try
            {
                var result = await call(Shard(grains, shard), shard, deadline.Token).WaitAsync(policy.Timeout, cancellationToken);
                return (Shard: shard, Result: result, Error: (Exception?)null);
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

        // the caller's request was too big: not a shard failure, and a partial answer would hide it
        if (failures.Select(f => f.Error).OfType<ReplyTooLargeException>().FirstOrDefault() is { } tooLarge)
        {
            throw tooLarge;
        }

        if (failures.Count > 0 && (!policy.AllowPartial || failures.Count == outcomes.Length))
        {
            var (shard, _, error) = failures[0];
            if (error is ShardUnavailableException unavailable)
            {
                throw unavailable;
            }

            var reason = error is TimeoutException or OperationCanceledException
                ? $"no answer within {policy.Timeout.TotalSeconds:0.###} s"
                : error!.Message;
            throw new ShardUnavailableException(Index, shard, reason);
        }

        return new FanOutResult<T>([.. outcomes.Where(o => o.Error is null).Select(o => (o.Shard, o.Result!))], [.. failures.Select(f => f.Shard)]);
    }

    /// <summary>The grain key of shard <paramref name="shard"/> of <paramref name="index"/>.</summary>
    public static string ShardKey(string index, int shard) => $"{index}/{shard.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>The index name and shard number in a shard key.</summary>
    /// <exception cref="FormatException">The key is not "index/number".</exception>
    public static (string Index, int Shard) ParseShardKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var slash = key.LastIndexOf('/');
        return slash > 0 && int.TryParse(key.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var shard)
            ? (key[..slash], shard)
            : throw new FormatException($"'{key}' is not a shard key (index/number).");
    }

    /// <summary>
    /// The factory string of a shard's index for <paramref name="spec"/>: the spec's own, under an id map unless its
    /// parsed layout keeps ids already (<see cref="FaissFactoryString.TakingIds"/>), because shards store global ids.
    /// </summary>
    /// <exception cref="ArgumentException">The spec's factory string is outside the grammar or its bounds.</exception>
    public static string FaissFactoryOf(IndexSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return FaissFactoryString.TakingIds(spec.Factory, spec.Dimension);
    }

    /// <summary>The faiss metric of a spec's metric.</summary>
    public static FaissMetric FaissMetricOf(VectorMetric metric) => metric == VectorMetric.L2 ? FaissMetric.L2 : FaissMetric.InnerProduct;
}

/// <summary>How a call fans out over shards: concurrency, a per-shard timeout, and whether partial answers are allowed.</summary>
public sealed record FanOutPolicy(int MaxConcurrency, TimeSpan Timeout, bool AllowPartial)
{
    /// <summary>Index management (describe, create, snapshot, remove): every shard must answer, each within two minutes.</summary>
    public static FanOutPolicy AllShards { get; } = new(64, TimeSpan.FromMinutes(2), AllowPartial: false);

    /// <summary>The policy of a query's options.</summary>
    public static FanOutPolicy Of(QueryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new(options.MaxConcurrency, options.ShardTimeout, options.AllowPartial);
    }
}

/// <summary>The answers of the shards that answered (shard number and value, in shard order) and the shards that failed.</summary>
public sealed record FanOutResult<T>(IReadOnlyList<(int Shard, T Value)> Answers, int[] Failed)
{
    /// <summary>The answers' values, in shard order.</summary>
    public IEnumerable<T> Values => Answers.Select(a => a.Value);
}
