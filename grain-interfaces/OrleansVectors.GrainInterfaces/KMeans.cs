namespace OrleansVectors.GrainInterfaces;

/// <summary>A k-means run over an index's vectors, with the options of the seed's <c>FaissKMeans</c> (faiss's <c>Clustering</c> parameters and defaults).</summary>
[GenerateSerializer, Alias("ov.KMeansRequest")]
public sealed record KMeansRequest
{
    /// <summary>Number of clusters, 1 to the number of vectors clustered.</summary>
    [Id(0)] public int K { get; init; }

    /// <summary>faiss's k-means options; <see cref="FaissKMeansOptions.InitialCentroids"/> has K rows of the index's dimension when given.</summary>
    [Id(1)] public FaissKMeansOptions Options { get; init; } = new();

    /// <summary>Cluster only these ids (each must exist), or null for every vector of the index.</summary>
    [Id(2)] public long[]? Ids { get; init; }

    /// <summary>Keep every vector's cluster on its shard when the run ends, for member and assignment lookups without recomputing.</summary>
    [Id(3)] public bool StoreAssignments { get; init; } = true;
}

/// <summary>Where a k-means run is.</summary>
public enum KMeansState
{
    /// <summary>No run yet on this index.</summary>
    None,

    /// <summary>Sampling the training points across the shards.</summary>
    Sampling,

    /// <summary>Lloyd iterations.</summary>
    Iterating,

    /// <summary>Assigning every vector to its nearest final centroid.</summary>
    Assigning,

    /// <summary>Done: the result is available.</summary>
    Completed,

    /// <summary>Failed: <see cref="KMeansProgress.Error"/> says why.</summary>
    Failed,

    /// <summary>Cancelled by a caller.</summary>
    Cancelled,
}

/// <summary>A k-means run's progress, readable while it runs.</summary>
[GenerateSerializer, Immutable, Alias("ov.KMeansProgress")]
public sealed record KMeansProgress(
    [property: Id(0)] Guid RunId,
    [property: Id(1)] KMeansState State,
    [property: Id(2)] int Redo,
    [property: Id(3)] int Iteration,
    [property: Id(4)] int Iterations,
    [property: Id(5)] double[] Objective,
    [property: Id(6)] long TrainingPoints,
    [property: Id(7)] string? Error)
{
    /// <summary>Runs that ended, one way or the other.</summary>
    public bool Ended => State is KMeansState.Completed or KMeansState.Failed or KMeansState.Cancelled or KMeansState.None;
}

/// <summary>The outcome of a k-means run over an index.</summary>
[GenerateSerializer, Immutable, Alias("ov.KMeansResult")]
public sealed record KMeansResult(
    [property: Id(0)] Guid RunId,
    [property: Id(1)] VectorBatch Centroids,
    [property: Id(2)] double[] Objective,
    [property: Id(3)] double[] RunObjectives,
    [property: Id(4)] long[] Sizes,
    [property: Id(5)] long TrainingPoints,
    [property: Id(6)] bool Spherical,
    [property: Id(7)] DateTime Completed)
{
    /// <summary>Number of clusters.</summary>
    public int K => Centroids.Count;

    /// <summary>Vectors assigned in the final pass.</summary>
    public long Points => Sizes.Sum();
}

/// <summary>A k-means run failed: a shard was lost, or the run was cancelled, or its input was wrong.</summary>
[GenerateSerializer, Alias("ov.KMeansFailedException")]
public sealed class KMeansFailedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public KMeansFailedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public KMeansFailedException()
        : this("The k-means run failed.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public KMeansFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// k-means over an index (key: the index name), run where the vectors are: each shard assigns its training points
/// and sums them per centroid (map), this grain combines the sums into new centroids (reduce). One run at a time
/// per index; searches and adds go on meanwhile. The last completed result is kept in grain storage.
/// </summary>
[Alias("ov.IKMeansGrain")]
public interface IKMeansGrain : IGrainWithStringKey
{
    /// <summary>Checks the request and starts a run; returns its id. Throws when one is running already.</summary>
    [Alias("Start")]
    Task<Guid> StartAsync(KMeansRequest request);

    /// <summary>The current (or last) run's progress.</summary>
    [Alias("Progress"), Orleans.Concurrency.ReadOnly]
    Task<KMeansProgress> GetProgressAsync();

    /// <summary>Cancels the running run; false when none is running.</summary>
    [Alias("Cancel")]
    Task<bool> CancelAsync();

    /// <summary>The last completed run's result, or null when there is none.</summary>
    [Alias("Result"), Orleans.Concurrency.ReadOnly]
    Task<KMeansResult?> GetResultAsync();

    /// <summary>The cluster of each id under the last result's centroids (-1 for an id the index does not hold).</summary>
    [Alias("Assign")]
    Task<int[]> AssignAsync(long[] ids);

    /// <summary>The ids of the vectors whose nearest centroid of the last result is <paramref name="cluster"/>, ascending.</summary>
    [Alias("Members")]
    Task<long[]> MembersAsync(int cluster);
}
