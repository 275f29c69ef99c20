namespace OrleansVectors.GrainInterfaces;

/// <summary>
/// <see cref="FaissKMeansOptions"/> on the wire. The options type lives in OrleansVectors.Abstractions, which the
/// in-process API references without Orleans, so it travels through this surrogate.
/// </summary>
[GenerateSerializer, Alias("ov.FaissKMeansOptions")]
internal struct FaissKMeansOptionsSurrogate
{
    [Id(0)] public int Iterations;
    [Id(1)] public int Redo;
    [Id(2)] public int Seed;
    [Id(3)] public bool Spherical;
    [Id(4)] public int MinPointsPerCentroid;
    [Id(5)] public int MaxPointsPerCentroid;
    [Id(6)] public bool Verbose;
    [Id(7)] public float[]? InitialCentroids;
}

/// <summary>Converts <see cref="FaissKMeansOptions"/> to and from its surrogate.</summary>
[RegisterConverter]
internal sealed class FaissKMeansOptionsConverter : IConverter<FaissKMeansOptions, FaissKMeansOptionsSurrogate>
{
    /// <inheritdoc/>
    public FaissKMeansOptions ConvertFromSurrogate(in FaissKMeansOptionsSurrogate surrogate) => new()
    {
        Iterations = surrogate.Iterations,
        Redo = surrogate.Redo,
        Seed = surrogate.Seed,
        Spherical = surrogate.Spherical,
        MinPointsPerCentroid = surrogate.MinPointsPerCentroid,
        MaxPointsPerCentroid = surrogate.MaxPointsPerCentroid,
        Verbose = surrogate.Verbose,
        InitialCentroids = surrogate.InitialCentroids,
    };

    /// <inheritdoc/>
    public FaissKMeansOptionsSurrogate ConvertToSurrogate(in FaissKMeansOptions value) => new()
    {
        Iterations = value.Iterations,
        Redo = value.Redo,
        Seed = value.Seed,
        Spherical = value.Spherical,
        MinPointsPerCentroid = value.MinPointsPerCentroid,
        MaxPointsPerCentroid = value.MaxPointsPerCentroid,
        Verbose = value.Verbose,
        InitialCentroids = value.InitialCentroids,
    };
}
