using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using OrleansVectors.GrainInterfaces;
using OrleansVectors.Grains.Clustering;
using OrleansVectors.Grains.Diagnostics;
using OrleansVectors.Grains.Topology;

namespace OrleansVectors.Grains;

/// <summary>The last completed k-means result of an index (grain storage: small; the assignments stay on the shards).</summary>
[GenerateSerializer, Alias("ov.KMeansGrainState")]
public sealed class KMeansGrainState
{
    /// <summary>The index generation the result belongs to: a re-created index has none.</summary>
    [Id(0)] public Guid Generation { get; set; }

    /// <summary>The run that produced it.</summary>
    [Id(1)] public Guid RunId { get; set; }

    /// <summary>The centroids' dimension.</summary>
    [Id(2)] public int Dimension { get; set; }

    /// <summary>k × <see cref="Dimension"/>, row-major.</summary>
    [Id(3)] public float[] Centroids { get; set; } = [];

    /// <summary>The objective after each iteration of the best run.</summary>
    [Id(4)] public double[] Objective { get; set; } = [];

    /// <summary>The final objective of every run (redo).</summary>
    [Id(5)] public double[] RunObjectives { get; set; } = [];

    /// <summary>Vectors per cluster in the final assignment.</summary>
    [Id(6)] public long[] Sizes { get; set; } = [];

    /// <summary>Points the iterations ran on (the sample).</summary>
    [Id(7)] public long TrainingPoints { get; set; }

    /// <summary>Assigned by inner product with unit centroids.</summary>
    [Id(8)] public bool Spherical { get; set; }

    /// <summary>When the run completed (UTC).</summary>
    [Id(9)] public DateTime Completed { get; set; }
}

/// <summary>
/// Distributed k-means over one index, faiss's algorithm as a map-reduce over the shards: a sample of at most
/// k × MaxPointsPerCentroid points chosen by a hash of id and seed (the same whatever the sharding), initial
/// centroids from the sample by a second hash per redo (or given), then per iteration each shard assigns its
/// training points with faiss and sums them per centroid (<see cref="IShardGrain.KMeansStepAsync"/>) and this grain
/// adds the sums in double precision, repairs empty clusters and renormalizes (spherical). The best run's centroids
/// then assign every vector on its shard. Reentrant: progress, cancel and lookups answer while a run goes on.
/// </summary>
[Reentrant]
public sealed partial class KMeansGrain(
    [PersistentState("kmeans", OrleansVectorsStorage.Name)] IPersistentState<KMeansGrainState> state,
    OrleansVectorsMetrics metrics,
    ILogger<KMeansGrain> logger) : Grain, IKMeansGrain, IDisposable
{
    /// <summary>Largest k × dimension (the centroids travel to every shard each iteration).</summary>
    public const int MaxCentroidValues = 1 << 24;

    private static readonly FanOutPolicy Policy = new(64, TimeSpan.FromMinutes(10), AllowPartial: false);

    private KMeansProgress _progress = new(Guid.Empty, KMeansState.None, 0, 0, 0, [], 0, null);
    private bool _starting;
    private CancellationTokenSource? _cancel;

    private string Name => this.GetPrimaryKeyString();

    /// <inheritdoc/>
    public void Dispose() => _cancel?.Dispose();

    /// <inheritdoc/>
    public async Task<Guid> StartAsync(KMeansRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        ResourceNames.RequireIndexName(Name);
        if (!_progress.Ended || _starting)
        {
            throw new InvalidOperationException($"A k-means run ({_progress.RunId}) is going on over index '{Name}': wait for it or cancel it.");
        }

        Check(request);
        _starting = true; // this grain is reentrant: a second start must not slip in while this one reads the index
        try
        {
            return await StartCheckedAsync(request);
        }
        finally
        {
            _starting = false;
        }
    }

    private async Task<Guid> StartCheckedAsync(KMeansRequest request)
    {
        var topology = new ShardTopology(await GrainFactory.GetGrain<IIndexClusterGrain>(Name).GetShardMapAsync());
        var d = topology.Spec.Dimension;
        if ((long)request.K * d > MaxCentroidValues)
        {
            throw new ArgumentOutOfRangeException(nameof(request), $"k={request.K} centroids of dimension {d} are more than {MaxCentroidValues:N0} values.");
        }

        if (request.Options.InitialCentroids is { } initial && initial.Length != (long)request.K * d)
        {
            throw new ArgumentException($"InitialCentroids holds {initial.Length} values; k={request.K} centroids of index '{Name}' need {request.K} × {d}.", nameof(request));
        }

        if (request.Options.InitialCentroids is { } centroids)
        {
            VectorValidation.RequireFinite(centroids, d, nameof(FaissKMeansOptions.InitialCentroids));
        }

        var points = request.Ids is { } ids ? ids.Distinct().LongCount() : await GrainFactory.GetGrain<IIndexGrain>(Name).CountAsync();
        if (points == 0)
        {
            throw new InvalidOperationException(request.Ids is null ? $"Index '{Name}' is empty: there is nothing to cluster." : "No ids were given to cluster.");
        }

        if (request.K > points)
        {
            throw new ArgumentOutOfRangeException(nameof(request), request.K, $"k-means with k={request.K} needs at least {request.K} vectors; index '{Name}' has {points} to cluster.");
        }

        var run = Guid.NewGuid();
        _cancel?.Dispose();
        _cancel = new CancellationTokenSource();
        _progress = new KMeansProgress(run, KMeansState.Sampling, 0, 0, request.Options.Iterations, [], 0, null);
        DelayDeactivation(TimeSpan.FromDays(1)); // a run's state lives in this activation
        _ = RunAsync(run, topology, request, points, _cancel.Token);
        return run;
    }

    /// <inheritdoc/>
    public Task<KMeansProgress> GetProgressAsync() => Task.FromResult(_progress);

    /// <inheritdoc/>
    public async Task<bool> CancelAsync()
    {
        if (_progress.Ended || _cancel is null)
        {
            return false;
        }

        await _cancel.CancelAsync();
        return true;
    }

    /// <inheritdoc/>
    public async Task<KMeansResult?> GetResultAsync() => await CurrentAsync() is { } result ? ToResult(result) : null;

    /// <inheritdoc/>
    public async Task<int[]> AssignAsync(long[] ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var (topology, result) = await RequireResultAsync();
        var centroids = VectorBatch.FromRows(result.Centroids, result.Dimension);
        var answers = await topology.FanOutAsync(GrainFactory, (shard, _, _) => shard.KMeansLookupAsync(topology.Generation, result.RunId, centroids, result.Spherical, ids), Policy);
        var clusters = Enumerable.Repeat(-1, ids.Length).ToArray();
        foreach (var answer in answers.Values)
        {
            for (var i = 0; i < ids.Length; i++)
            {
                clusters[i] = Math.Max(clusters[i], answer[i]);
            }
        }

        return clusters;
    }

    /// <inheritdoc/>
    public async Task<long[]> MembersAsync(int cluster)
    {
        var (topology, result) = await RequireResultAsync();
        ArgumentOutOfRangeException.ThrowIfNegative(cluster);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(cluster, result.Sizes.Length);
        var centroids = VectorBatch.FromRows(result.Centroids, result.Dimension);
        var answers = await topology.FanOutAsync(GrainFactory, (shard, _, _) => shard.KMeansMembersAsync(topology.Generation, result.RunId, centroids, result.Spherical, cluster), Policy);
        var members = answers.Values.SelectMany(m => m).ToArray();
        Array.Sort(members);
        return members;
    }

    /// <summary>Rejects options faiss would reject, naming the option.</summary>
    private static void Check(KMeansRequest request)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(request.K, 1, nameof(request.K));
        ArgumentNullException.ThrowIfNull(request.Options, nameof(request.Options));
        request.Options.Validate();
    }

    private async Task RunAsync(Guid run, ShardTopology topology, KMeansRequest request, long points, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        var (k, d) = (request.K, topology.Spec.Dimension);
        var (redo, iteration) = (0, 0);
        try
        {
            var training = await SampleAsync(run, topology, request, points, cancel);
            if (request.Options.Verbose)
            {
                LogSampled(Name, training, points, clock.Elapsed.TotalSeconds);
            }
            if (training < (long)k * request.Options.MinPointsPerCentroid)
            {
                LogTooFewPoints(Name, training, k, request.Options.MinPointsPerCentroid);
            }

            (float[] Centroids, double[] Objective)? best = null;
            var runObjectives = new List<double>();
            for (redo = 0; redo < request.Options.Redo; redo++)
            {
                var centroids = request.Options.InitialCentroids?.ToArray() ?? await InitialCentroidsAsync(run, topology, k, d, KMeansRows.InitSeed(request.Options.Seed, redo), cancel);
                if (request.Options.Spherical)
                {
                    KMeansReduce.Normalize(centroids, d);
                }
                var objective = new List<double>();
                for (iteration = 1; iteration <= request.Options.Iterations; iteration++)
                {
                    cancel.ThrowIfCancellationRequested();
                    var batch = VectorBatch.FromRows(centroids, d);
                    var partials = await topology.FanOutAsync(GrainFactory, (shard, _, _) => shard.KMeansStepAsync(run, batch, request.Options.Spherical), Policy, cancel);
                    var (sums, counts, value) = KMeansReduce.Combine(partials.Values, k, d);
                    (centroids, var split) = KMeansReduce.Centroids(sums, counts, d, request.Options.Spherical);
                    objective.Add(value);
                    metrics.KMeansIteration(Name);
                    _progress = _progress with { State = KMeansState.Iterating, Redo = redo, Iteration = iteration, Objective = [.. objective] };
                    if (request.Options.Verbose)
                    {
                        LogIteration(Name, redo, iteration, value, split, clock.Elapsed.TotalSeconds);
                    }
                }

                runObjectives.Add(objective[^1]);
                var better = request.Options.Spherical ? objective[^1] > best?.Objective[^1] : objective[^1] < best?.Objective[^1];
                if (best is null || better)
                {
                    best = (centroids, [.. objective]);
                }
            }

            _progress = _progress with { State = KMeansState.Assigning };
            var final = VectorBatch.FromRows(best!.Value.Centroids, d);
            var sizes = new long[k];
            var assigned = await topology.FanOutAsync(
                GrainFactory, (shard, _, _) => shard.KMeansAssignAsync(topology.Generation, run, request.Ids, final, request.Options.Spherical, request.StoreAssignments), Policy, cancel);
            foreach (var shardSizes in assigned.Values)
            {
                for (var c = 0; c < k; c++)
                {
                    sizes[c] += shardSizes[c];
                }
            }

            state.State = new KMeansGrainState
            {
                Generation = topology.Generation,
                RunId = run,
                Dimension = d,
                Centroids = best.Value.Centroids,
                Objective = best.Value.Objective,
                RunObjectives = [.. runObjectives],
                Sizes = sizes,
                TrainingPoints = training,
                Spherical = request.Options.Spherical,
                Completed = DateTime.UtcNow,
            };
            await state.WriteStateAsync(CancellationToken.None);
            _progress = _progress with { State = KMeansState.Completed, Objective = best.Value.Objective };
            LogCompleted(Name, k, points, training, best.Value.Objective[^1], clock.Elapsed.TotalSeconds);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            _progress = _progress with { State = KMeansState.Cancelled, Error = "cancelled" };
            await EndAsync(run, topology);
        }
        catch (Exception e)
        {
            var at = _progress.State == KMeansState.Iterating || iteration > 0 ? $" at iteration {iteration} of run {redo + 1}" : $" while {_progress.State.ToString().ToLowerInvariant()}";
            _progress = _progress with { State = KMeansState.Failed, Error = $"k-means over index '{Name}' failed{at}: {e.Message}" };
            LogFailed(Name, _progress.Error!);
            await EndAsync(run, topology);
        }
        finally
        {
            DelayDeactivation(TimeSpan.Zero);
        }
    }

    /// <summary>
    /// Picks the training points: all of them when they are at most k × MaxPointsPerCentroid, else that many with
    /// the smallest keys (each shard proposes its smallest, the global smallest decide the threshold).
    /// </summary>
    private async Task<long> SampleAsync(Guid run, ShardTopology topology, KMeansRequest request, long points, CancellationToken cancel)
    {
        var seed = KMeansRows.SampleSeed(request.Options.Seed);
        var wanted = Math.Min(points, (long)request.K * request.Options.MaxPointsPerCentroid);
        var take = (int)Math.Min(wanted, int.MaxValue);
        var keys = await topology.FanOutAsync(GrainFactory, (shard, _, _) => shard.KMeansKeysAsync(topology.Generation, run, request.Ids, seed, take), Policy, cancel);
        var found = keys.Values.Sum(k => k.Count);
        if (request.Ids is not null && found != points)
        {
            throw new ArgumentException($"{points - found} of the {points} ids given are not in index '{Name}'.");
        }

        var threshold = (Hash: ulong.MaxValue, Id: long.MaxValue);
        if (wanted < found)
        {
            var smallest = KMeansRows.Smallest([.. keys.Values.SelectMany(k => k.Hashes)], [.. keys.Values.SelectMany(k => k.Ids)], take);
            threshold = (smallest.Hashes[^1], smallest.Ids[^1]);
        }

        var prepared = await topology.FanOutAsync(GrainFactory, (shard, _, _) => shard.KMeansPrepareAsync(topology.Generation, run, request.Ids, seed, threshold.Hash, threshold.Id), Policy, cancel);
        var training = prepared.Values.Sum();
        _progress = _progress with { State = KMeansState.Iterating, TrainingPoints = training };
        return training;
    }

    /// <summary>The k training points with the smallest keys under <paramref name="seed"/> (as faiss takes the first k of a random permutation).</summary>
    private async Task<float[]> InitialCentroidsAsync(Guid run, ShardTopology topology, int k, int d, ulong seed, CancellationToken cancel)
    {
        var seeds = await topology.FanOutAsync(GrainFactory, (shard, _, _) => shard.KMeansSeedsAsync(run, seed, k), Policy, cancel);
        var candidates = seeds.Values
            .Where(s => s.Vectors is not null)
            .SelectMany(s => s.Hashes.Select((hash, i) => (Hash: hash, Id: s.Ids[i], Vectors: s.Vectors!, Row: i)))
            .OrderBy(c => c.Hash).ThenBy(c => c.Id)
            .Take(k)
            .ToList();
        var centroids = new float[k * d];
        for (var c = 0; c < candidates.Count; c++)
        {
            candidates[c].Vectors.Values.Slice(candidates[c].Row * d, d).CopyTo(centroids.AsSpan(c * d));
        }

        return centroids;
    }

    private async Task EndAsync(Guid run, ShardTopology topology)
    {
        try
        {
            await topology.FanOutAsync(
                GrainFactory, async (shard, _, _) =>
                {
                    await shard.KMeansEndAsync(run);
                    return true;
                },
                new FanOutPolicy(64, TimeSpan.FromSeconds(10), AllowPartial: true));
        }
        catch (Exception e) when (e is ShardUnavailableException or OrleansException or TimeoutException)
        {
            // shards that are gone hold nothing of the run
        }
    }

    private async Task<KMeansGrainState?> CurrentAsync()
    {
        try
        {
            return ResultOf(await GrainFactory.GetGrain<IIndexClusterGrain>(Name).GetShardMapAsync());
        }
        catch (IndexNotFoundException)
        {
            return null;
        }
    }

    private async Task<(ShardTopology Topology, KMeansGrainState Result)> RequireResultAsync()
    {
        var map = await GrainFactory.GetGrain<IIndexClusterGrain>(Name).GetShardMapAsync();
        return ResultOf(map) is { } result
            ? (new ShardTopology(map), result)
            : throw new InvalidOperationException($"Index '{Name}' has no k-means result: run k-means first.");
    }

    /// <summary>The stored result when it belongs to this generation of the index (a re-created index has none).</summary>
    private KMeansGrainState? ResultOf(ShardMap map) =>
        state.State.RunId != Guid.Empty && state.State.Generation == map.Generation ? state.State : null;

    private static KMeansResult ToResult(KMeansGrainState s) =>
        new(s.RunId, VectorBatch.FromRows(s.Centroids, s.Dimension), s.Objective, s.RunObjectives, s.Sizes, s.TrainingPoints, s.Spherical, s.Completed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "k-means over {Index}: {Points} training points for {K} centroids is fewer than {Min} per centroid")]
    private partial void LogTooFewPoints(string index, long points, int k, int min);

    [LoggerMessage(Level = LogLevel.Information, Message = "k-means over {Index}: {Training} training points of {Points} sampled, {Seconds:0.00} s")]
    private partial void LogSampled(string index, long training, long points, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "k-means over {Index}: run {Redo} iteration {Iteration}: objective {Objective:G6}, {Split} empty clusters split, {Seconds:0.00} s")]
    private partial void LogIteration(string index, int redo, int iteration, double objective, int split, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "k-means over {Index}: k={K} over {Points} vectors ({Training} training points), objective {Objective:G6}, {Seconds:0.0} s")]
    private partial void LogCompleted(string index, int k, long points, long training, double objective, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "k-means over {Index}: {Error}")]
    private partial void LogFailed(string index, string error);
}
