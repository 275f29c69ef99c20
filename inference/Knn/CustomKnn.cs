using OrleansVectors.Inference.Distances;
using OrleansVectors.Inference.Models;
using static TorchSharp.torch;

namespace OrleansVectors.Inference.Knn;

/// <summary>
/// k-nearest neighbours by any <see cref="BaseDistance"/>, exactly, with torch's top-k over the distance matrix
/// (largest first for similarities), as the seed's <c>CustomKNN</c>. With a batch size the matrix is computed a
/// block of query rows at a time (<see cref="BatchedDistance"/>), so memory stays at batch × reference.
/// Stateless and safe to share between threads.
/// </summary>
public sealed class CustomKnn : IKnnFunction
{
    /// <summary>Creates a knn function over a distance.</summary>
    /// <param name="distance">The distance or similarity.</param>
    /// <param name="batchSize">Query rows per block, or null for the whole matrix at once.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is less than 1.</exception>
    public CustomKnn(BaseDistance distance, int? batchSize = null)
    {
        ArgumentNullException.ThrowIfNull(distance);
        if (batchSize is { } size)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(size, 1, nameof(batchSize));
        }

        Distance = distance;
        BatchSize = batchSize;
    }

    /// <summary>The distance neighbours are ranked by.</summary>
    public BaseDistance Distance { get; }

    /// <summary>Query rows per block, or null.</summary>
    public int? BatchSize { get; }

    /// <inheritdoc/>
    /// <remarks>A null reference searches the query against itself.</remarks>
    /// <exception cref="ArgumentException">Bad embeddings or mismatched dimensions.</exception>
    /// <exception cref="ArgumentOutOfRangeException">k is less than 1 or more than the reference holds.</exception>
    public KnnResult Search(Tensor query, int k, Tensor? reference = null, bool referenceIncludesQuery = false)
    {
        TensorChecks.RequireEmbeddings(query);
        reference ??= query;
        TensorChecks.RequireEmbeddings(reference, query.shape[1]);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        var fetch = referenceIncludesQuery ? k + 1 : k;
        if (fetch > reference.shape[0])
        {
            throw new ArgumentOutOfRangeException(nameof(k), k,
                $"k={fetch} neighbours were asked for (including a row's own index where the reference includes the query), but the reference holds {reference.shape[0]}.");
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor distances, indices;
        if (BatchSize is { } batchSize)
        {
            distances = zeros(query.shape[0], fetch, query.dtype, query.device);
            indices = zeros(query.shape[0], fetch, ScalarType.Int64, query.device);
            var (allDistances, allIndices) = (distances, indices);
            new BatchedDistance(Distance, batchSize: batchSize).ForEachBatch(query, reference, (block, start, end) =>
            {
                var (d, i) = block.topk(fetch, dim: 1, largest: Distance.IsInverted);
                allDistances.narrow(0, start, end - start).copy_(d);
                allIndices.narrow(0, start, end - start).copy_(i);
            });
        }
        else
        {
            (distances, indices) = Distance.Compute(query, reference).topk(fetch, dim: 1, largest: Distance.IsInverted);
        }

        var result = referenceIncludesQuery
            ? SelfMatches.Remove(distances, indices)
            : new KnnResult(distances, indices);
        result.Distances.MoveToOuterDisposeScope();
        result.Indices.MoveToOuterDisposeScope();
        return result;
    }
}
