namespace OrleansVectors.GrainInterfaces;

/// <summary>
/// <see cref="FaissKMeansOptions"/> on the wire. The options type lives in OrleansVectors.Abstractions, which the
/// in-process API references without Orleans, so it travels through this surrogate.
/// </summary>
[GenerateSerializer, Alias("ov.FaissKMeansOptions")]
internal readonly record struct FaissKMeansOptionsSurrogate(
    [property: Id(0)] int Iterations,
    [property: Id(1)] int Redo,
    [property: Id(2)] int Seed,
    [property: Id(3)] bool Spherical,
    [property: Id(4)] int MinPointsPerCentroid,
    [property: Id(5)] int MaxPointsPerCentroid,
    [property: Id(6)] bool Verbose,
    [property: Id(7)] float[]? InitialCentroids);

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
    public FaissKMeansOptionsSurrogate ConvertToSurrogate(in FaissKMeansOptions value) => new(
        value.Iterations, value.Redo, value.Seed, value.Spherical, value.MinPointsPerCentroid, value.MaxPointsPerCentroid, value.Verbose, value.InitialCentroids);
}
