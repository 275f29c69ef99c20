using OrleansVectors.Inference.Faiss;
using OrleansVectors.Inference.Models;
using static TorchSharp.torch;

namespace OrleansVectors.Inference;

/// <summary>
/// k-means clustering with faiss, as the seed's <c>FaissKMeans</c>: runs faiss k-means with the given options
/// and returns each row's nearest centroid. Safe to share between threads.
/// </summary>
/// <param name="options">faiss k-means options (iterations, redo, seed, spherical, min/max points per centroid, verbose); null for faiss's defaults.</param>
/// <param name="gpu">Use a GPU where a GPU faiss is available; faiss here is Debian's CPU build, so this is recorded only.</param>
public sealed class FaissKMeans(FaissKMeansOptions? options = null, bool gpu = false)
{
    /// <summary>The k-means options.</summary>
    public FaissKMeansOptions Options { get; } = options ?? new FaissKMeansOptions();

    /// <summary>Whether a GPU was asked for.</summary>
    public bool Gpu { get; } = gpu;

    /// <summary>Clusters the rows of <paramref name="x"/> into <paramref name="clusters"/> groups.</summary>
    /// <returns>The cluster of each row (int64, 0 … clusters−1), on <paramref name="x"/>'s device.</returns>
    /// <exception cref="ArgumentException">Bad embeddings.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="clusters"/> is less than 1 or more than the rows.</exception>
    public Tensor Cluster(Tensor x, int clusters)
    {
        TensorChecks.RequireEmbeddings(x);
        var result = TensorInterop.WithRows(x, rows => FaissClustering.KMeans(rows, (int)x.shape[1], clusters, Options));
        return TensorInterop.OnDevice(tensor(result.Assignments), x.device);
    }
}
