using static OrleansVectors.Inference.Faiss.NativeFaissMethods;

namespace OrleansVectors.Inference.Faiss;

/// <summary>The outcome of <see cref="FaissClustering.KMeans"/>.</summary>
/// <param name="Centroids">k × dimension, row-major.</param>
/// <param name="Objective">The objective (sum of squared distances, or of similarities when spherical) after each iteration of the best run.</param>
/// <param name="Assignments">Nearest centroid of each input vector.</param>
public sealed record FaissKMeansResult(float[] Centroids, float[] Objective, long[] Assignments);

/// <summary>Clustering with faiss.</summary>
public static class FaissClustering
{
    /// <summary>Runs faiss k-means over row-major vectors.</summary>
    /// <param name="vectors">Row-major vectors, a whole number of <paramref name="dimension"/>-wide rows, all finite.</param>
    /// <param name="dimension">Vector dimension, at least 1.</param>
    /// <param name="k">Number of clusters, 1 to the number of vectors.</param>
    /// <param name="options">Options, or null for faiss's defaults.</param>
    /// <exception cref="ArgumentException">Bad vectors or initial centroids of the wrong size.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Dimension, k, iterations or redo out of range.</exception>
    public static unsafe FaissKMeansResult KMeans(ReadOnlySpan<float> vectors, int dimension, int k, FaissKMeansOptions? options = null)
    {
        options ??= new FaissKMeansOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        var n = VectorValidation.RowCount(vectors, dimension);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        if (k > n)
        {
            throw new ArgumentOutOfRangeException(nameof(k), k, $"k-means with k={k} needs at least {k} vectors; {n} were given.");
        }

        options.Validate();

        var centroids = new float[k * dimension];
        if (options.InitialCentroids is { } initial)
        {
            if (initial.Length != centroids.Length)
            {
                throw new ArgumentException(
                    $"InitialCentroids holds {initial.Length} values; k={k} centroids of dimension {dimension} need {centroids.Length}.", nameof(options));
            }

            VectorValidation.RequireFinite(initial, dimension, nameof(options.InitialCentroids));
            initial.CopyTo(centroids, 0);
        }

        var parameters = new NativeKMeansParameters
        {
            Iterations = options.Iterations,
            Redo = options.Redo,
            Seed = options.Seed,
            Spherical = options.Spherical ? 1 : 0,
            MinPointsPerCentroid = options.MinPointsPerCentroid,
            MaxPointsPerCentroid = options.MaxPointsPerCentroid,
            Verbose = options.Verbose ? 1 : 0,
            UseInitialCentroids = options.InitialCentroids is null ? 0 : 1,
        };
        var objective = new float[checked(options.Iterations * options.Redo)];
        var assignments = new long[n];
        fixed (float* x = vectors)
        fixed (float* c = centroids)
        fixed (float* o = objective)
        fixed (long* a = assignments)
        {
            NativeFaissMethods.KMeans(dimension, n, x, k, parameters, c, o, out var iterations, a).ThrowIfFailed();
            objective = objective[..iterations];
        }

        return new FaissKMeansResult(centroids, objective, assignments);
    }
}

/// <summary>Principal component analysis with faiss.</summary>
public static class FaissPca
{
    /// <summary>
    /// Trains faiss's <c>PCAMatrix</c> on the rows and returns their projections on the
    /// <paramref name="outputDimension"/> leading components (rows × <paramref name="outputDimension"/>, row-major).
    /// </summary>
    /// <exception cref="ArgumentException">Bad vectors.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="outputDimension"/> is not in 1 … <paramref name="dimension"/>.</exception>
    public static unsafe float[] Apply(ReadOnlySpan<float> vectors, int dimension, int outputDimension)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        var n = VectorValidation.RowCount(vectors, dimension);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputDimension, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(outputDimension, dimension);
        var output = new float[checked(n * outputDimension)];
        fixed (float* x = vectors)
        fixed (float* o = output)
        {
            NativeFaissMethods.Pca(dimension, n, x, outputDimension, o).ThrowIfFailed();
        }

        return output;
    }
}
