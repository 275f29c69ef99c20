namespace OrleansVectors;

/// <summary>
/// faiss k-means options, with faiss's defaults (as python's <c>faiss.Kmeans</c>): the one options type of k-means,
/// in process (<c>FaissKMeans</c>, <c>FaissClustering</c>) and over a cluster (<c>VectorIndexClient.KMeansAsync</c>).
/// </summary>
public sealed record FaissKMeansOptions
{
    /// <summary>The most iterations a run takes.</summary>
    public const int MaxIterations = 100_000;

    /// <summary>The most redos a run takes.</summary>
    public const int MaxRedo = 1_000;

    /// <summary>Iterations per run, 1 to <see cref="MaxIterations"/> (default 25).</summary>
    public int Iterations { get; init; } = 25;

    /// <summary>Runs from different seeds, 1 to <see cref="MaxRedo"/>; the best objective wins (default 1).</summary>
    public int Redo { get; init; } = 1;

    /// <summary>Random seed for initialisation and subsampling (default 1234).</summary>
    public int Seed { get; init; } = 1234;

    /// <summary>Normalize centroids after each iteration and assign by inner product (default false).</summary>
    public bool Spherical { get; init; }

    /// <summary>Below this many points per centroid faiss warns, at least 0 (default 39).</summary>
    public int MinPointsPerCentroid { get; init; } = 39;

    /// <summary>Above this many points per centroid faiss subsamples the input, at least 1 (default 256).</summary>
    public int MaxPointsPerCentroid { get; init; } = 256;

    /// <summary>Report progress per iteration: faiss prints to standard output; a cluster run logs on its coordinating silo (default false).</summary>
    public bool Verbose { get; init; }

    /// <summary>Initial centroids (k × dimension, row-major, finite), or null for faiss's random initialisation.</summary>
    public float[]? InitialCentroids { get; init; }

    /// <summary>Throws when an option is out of its range, naming the option; the size of <see cref="InitialCentroids"/> is checked where k and the dimension are known.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Iterations, Redo, MinPointsPerCentroid or MaxPointsPerCentroid out of range.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Iterations, 1, nameof(Iterations));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Iterations, MaxIterations, nameof(Iterations));
        ArgumentOutOfRangeException.ThrowIfLessThan(Redo, 1, nameof(Redo));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Redo, MaxRedo, nameof(Redo));
        ArgumentOutOfRangeException.ThrowIfNegative(MinPointsPerCentroid, nameof(MinPointsPerCentroid));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxPointsPerCentroid, 1, nameof(MaxPointsPerCentroid));
    }
}
