using OrleansVectors.Inference.Models;
using static TorchSharp.torch;

namespace OrleansVectors.Inference.Knn;

/// <summary>
/// Distances and indices of the nearest neighbours, each a (query rows × k) tensor on the query's device;
/// indices are int64 positions in the reference. Dispose to free both tensors.
/// </summary>
public sealed record KnnResult(Tensor Distances, Tensor Indices) : IDisposable
{
    /// <summary>The indices as a rows × k array (copied to the CPU).</summary>
    public long[,] IndicesArray() => TensorInterop.ToArray2D<long>(Indices);

    /// <summary>The distances as a rows × k array (copied to the CPU).</summary>
    public float[,] DistancesArray()
    {
        using var distances = Distances.to_type(ScalarType.Float32);
        return TensorInterop.ToArray2D<float>(distances);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Distances.Dispose();
        Indices.Dispose();
    }
}
