using OrleansVectors.GrainInterfaces;

namespace OrleansVectors.Client;

/// <summary>k-means over an index, run on the cluster where its vectors are (see <see cref="IKMeansGrain"/>).</summary>
public sealed partial class VectorIndexClient
{
    /// <summary>How often a running k-means is asked for its progress, at most: short runs are polled sooner (a twentieth of their time so far, from 5 ms).</summary>
    private static readonly TimeSpan KMeansPoll = TimeSpan.FromMilliseconds(200);

    /// <summary>How long a run's coordinator may not answer before the run counts as lost.</summary>
    private static readonly TimeSpan KMeansLostAfter = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Clusters an index's vectors (or those of <paramref name="ids"/>) into <paramref name="k"/> clusters with the
    /// options of the in-process <c>FaissKMeans</c> (faiss's defaults), waiting for the run and reporting its
    /// progress. Searches and adds go on meanwhile. Cancelling the token cancels the run on the cluster.
    /// </summary>
    /// <param name="name">The index.</param>
    /// <param name="k">Number of clusters.</param>
    /// <param name="options">faiss's k-means options; null for faiss's defaults.</param>
    /// <param name="ids">Cluster only these vectors; null for all.</param>
    /// <param name="storeAssignments">Keep every vector's cluster on its shard for <see cref="GetClusterMembersAsync"/> and <see cref="GetClustersAsync"/>.</param>
    /// <param name="progress">Receives the run's progress (iteration, objective) while it goes on.</param>
    /// <param name="cancellationToken">Cancels the run.</param>
    /// <exception cref="IndexNotFoundException">No such index.</exception>
    /// <exception cref="ArgumentOutOfRangeException">k below 1 or above the number of vectors; iterations or redo below 1.</exception>
    /// <exception cref="InvalidOperationException">The index is empty, or a run is going on already.</exception>
    /// <exception cref="KMeansFailedException">The run failed (a shard's silo was lost, ids not in the index, …); the message says where.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled (the run was cancelled on the cluster).</exception>
    public async Task<KMeansResult> KMeansAsync(
        string name,
        int k,
        FaissKMeansOptions? options = null,
        long[]? ids = null,
        bool storeAssignments = true,
        IProgress<KMeansProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        options ??= new FaissKMeansOptions();
        options.Validate();
        var grain = KMeans(name);
        var run = await grain.StartAsync(new KMeansRequest { K = k, Options = options, Ids = ids, StoreAssignments = storeAssignments });

        var cancelled = false;
        var started = System.Diagnostics.Stopwatch.StartNew();
        TimeSpan? lostSince = null;
        while (true)
        {
            if (cancellationToken.IsCancellationRequested && !cancelled)
            {
                cancelled = true;
                await grain.CancelAsync();
            }

            KMeansProgress now;
            try
            {
                now = await grain.GetProgressAsync();
                lostSince = null;
            }
            catch (Exception e) when (e is OrleansException or TimeoutException)
            {
                // the coordinating silo is gone or going: its grain comes back elsewhere without the run, which the
                // next poll tells; keep asking for a while
                lostSince ??= started.Elapsed;
                if (started.Elapsed - lostSince > KMeansLostAfter)
                {
                    throw new KMeansFailedException($"k-means run {run} over index '{name}' was lost: its coordinating grain did not answer for {KMeansLostAfter.TotalSeconds:0} s ({e.Message.Split('\n')[0]}). Start it again.", e);
                }

                await Task.Delay(KMeansPoll, CancellationToken.None);
                continue;
            }

            if (now.RunId != run)
            {
                throw new KMeansFailedException($"k-means run {run} over index '{name}' was lost: the silo coordinating it left the cluster. Start it again.");
            }

            progress?.Report(now);
            switch (now.State)
            {
                case KMeansState.Completed:
                    return await grain.GetResultAsync() is { RunId: var done } result && done == run
                        ? result
                        : throw new KMeansFailedException($"k-means run {run} over index '{name}' completed, but its result was replaced by another run's.");
                case KMeansState.Failed:
                    throw new KMeansFailedException(now.Error ?? $"k-means run {run} over index '{name}' failed.");
                case KMeansState.Cancelled:
                    throw new OperationCanceledException($"k-means run {run} over index '{name}' was cancelled.", cancellationToken);
            }

            await Task.Delay(TimeSpan.FromTicks(Math.Clamp(started.Elapsed.Ticks / 20, TimeSpan.TicksPerMillisecond * 5, KMeansPoll.Ticks)), CancellationToken.None);
        }
    }

    /// <summary>The last completed k-means result of an index, or null.</summary>
    public Task<KMeansResult?> GetKMeansResultAsync(string name) => KMeans(name).GetResultAsync();

    /// <summary>The cluster of each id under the index's last k-means centroids (-1 for an id it does not hold).</summary>
    public Task<int[]> GetClustersAsync(string name, long[] ids) => KMeans(name).AssignAsync(ids);

    /// <summary>The ids in cluster <paramref name="cluster"/> of the index's last k-means result, ascending.</summary>
    public Task<long[]> GetClusterMembersAsync(string name, int cluster) => KMeans(name).MembersAsync(cluster);

    private IKMeansGrain KMeans(string name) => grains.GetGrain<IKMeansGrain>(ResourceNames.RequireIndexName(name, nameof(name)));
}
