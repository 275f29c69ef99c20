using OrleansVectors.GrainInterfaces;
using static TorchSharp.torch;

namespace OrleansVectors.Client;

/// <summary>
/// The seed's <c>FaissKMeans</c> on the cluster, with the options of the in-process
/// <see cref="Inference.FaissKMeans"/>: <see cref="ClusterAsync"/> clusters the rows of a tensor (they go to a
/// scratch index of <paramref name="shards"/> shards, k-means runs there as a map-reduce over the shards, each row's
/// cluster comes back, the scratch index is dropped); <see cref="ClusterIndexAsync"/> clusters an index's own vectors
/// where they are. Safe to share between threads.
/// </summary>
/// <param name="client">The cluster.</param>
/// <param name="options">faiss's k-means options; null for faiss's defaults.</param>
/// <param name="shards">Shards of the scratch index <see cref="ClusterAsync"/> uses.</param>
public sealed class ClusterFaissKMeans(VectorIndexClient client, FaissKMeansOptions? options = null, int shards = 4)
{
    /// <summary>The k-means options.</summary>
    public FaissKMeansOptions Options { get; } = options ?? new FaissKMeansOptions();

    /// <summary>Clusters the rows of <paramref name="x"/> into <paramref name="clusters"/> groups, as the seed's <c>FaissKMeans(x, nmb_clusters)</c>.</summary>
    /// <returns>The cluster of each row (int64, 0 … clusters−1), on <paramref name="x"/>'s device.</returns>
    /// <exception cref="ArgumentException">Bad embeddings (empty, not finite).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="clusters"/> is less than 1 or more than the rows.</exception>
    public async Task<Tensor> ClusterAsync(Tensor x, int clusters, CancellationToken cancellationToken = default)
    {
        var (values, width) = TensorRows.Of(x);
        var rows = values.Length / width;
        ArgumentOutOfRangeException.ThrowIfLessThan(clusters, 1);
        if (clusters > rows)
        {
            throw new ArgumentOutOfRangeException(nameof(clusters), clusters, $"k-means with k={clusters} needs at least {clusters} vectors; {rows} were given.");
        }

        var scratch = $"kmeans-scratch-{Guid.NewGuid():N}";
        await client.CreateIndexAsync(scratch, new IndexSpec { Dimension = width, ShardCount = Math.Clamp(shards, 1, rows) });
        try
        {
            var receipts = await client.AddAsync(scratch, values, width, cancellationToken: cancellationToken);
            long[] ids = [.. receipts.SelectMany(r => Enumerable.Range(0, r.Count).Select(i => r.FirstId + i))];
            await client.KMeansAsync(scratch, clusters, Options, cancellationToken: cancellationToken);
            var assignments = await client.GetClustersAsync(scratch, ids);
            return tensor(assignments.Select(a => (long)a).ToArray()).to(x.device);
        }
        finally
        {
            await client.DropIndexAsync(scratch);
        }
    }

    /// <summary>Clusters the vectors of <paramref name="index"/> where they are; the result's assignments stay on the shards.</summary>
    public Task<KMeansResult> ClusterIndexAsync(string index, int clusters, IProgress<KMeansProgress>? progress = null, CancellationToken cancellationToken = default) =>
        client.KMeansAsync(index, clusters, Options, progress: progress, cancellationToken: cancellationToken);
}
