namespace OrleansVectors;

/// <summary>faiss k-means options; the defaults are faiss's (as python's <c>faiss.Kmeans</c>).</summary>
public sealed record FaissKMeansOptions
{
    /// <summary>Iterations per run (default 25).</summary>
    public int Iterations { get; init; } = 25;

    /// <summary>Runs from different seeds; the best objective wins (default 1).</summary>
    public int Redo { get; init; } = 1;

    /// <summary>Random seed for initialisation and subsampling (default 1234).</summary>
    public int Seed { get; init; } = 1234;

    /// <summary>Normalize centroids after each iteration and assign by inner product (default false).</summary>
    public bool Spherical { get; init; }

    /// <summary>Below this many points per centroid faiss warns (default 39).</summary>
    public int MinPointsPerCentroid { get; init; } = 39;

    /// <summary>Above this many points per centroid faiss subsamples the input (default 256).</summary>
    public int MaxPointsPerCentroid { get; init; } = 256;

    /// <summary>faiss prints progress per iteration to standard output (default false).</summary>
    public bool Verbose { get; init; }

    /// <summary>Initial centroids (k × dimension, row-major), or null for faiss's random initialisation.</summary>
    public float[]? InitialCentroids { get; init; }
}
