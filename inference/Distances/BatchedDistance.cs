using OrleansVectors.Inference.Models;
using static TorchSharp.torch;

namespace OrleansVectors.Inference.Distances;

/// <summary>
/// Computes a distance matrix a block of query rows at a time and hands each block to a callback, so that the
/// whole matrix never has to exist at once (as the seed's <c>BatchedDistance</c>).
/// </summary>
public sealed class BatchedDistance
{
    /// <summary>Wraps a distance.</summary>
    /// <param name="distance">The distance to compute.</param>
    /// <param name="iterFn">Called with each block (rows s … e−1 of the query against the whole reference), s and e; may be null when only <see cref="ForEachBatch"/> is used.</param>
    /// <param name="batchSize">Query rows per block, at least 1 (default 32).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is less than 1.</exception>
    public BatchedDistance(BaseDistance distance, Action<Tensor, long, long>? iterFn = null, int batchSize = 32)
    {
        ArgumentNullException.ThrowIfNull(distance);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        Distance = distance;
        IterFn = iterFn;
        BatchSize = batchSize;
    }

    /// <summary>The wrapped distance.</summary>
    public BaseDistance Distance { get; }

    /// <summary>The callback <see cref="Compute"/> hands each block to.</summary>
    public Action<Tensor, long, long>? IterFn { get; }

    /// <summary>Query rows per block.</summary>
    public int BatchSize { get; }

    /// <summary>Whether larger values mean closer, as the wrapped distance.</summary>
    public bool IsInverted => Distance.IsInverted;

    /// <summary>Computes the matrix block by block, calling <see cref="IterFn"/> with each.</summary>
    /// <exception cref="InvalidOperationException">No <see cref="IterFn"/> was given.</exception>
    public void Compute(Tensor query, Tensor? reference = null) =>
        ForEachBatch(query, reference, IterFn ?? throw new InvalidOperationException("This BatchedDistance has no iterFn: pass one to the constructor or call ForEachBatch."));

    /// <summary>Computes the matrix block by block, calling <paramref name="callback"/> with each block and its row range [s, e).</summary>
    /// <remarks>Each block is disposed after the callback returns; copy what you keep.</remarks>
    public void ForEachBatch(Tensor query, Tensor? reference, Action<Tensor, long, long> callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        TensorChecks.RequireEmbeddings(query);
        reference ??= query;
        var rows = query.shape[0];
        for (long start = 0; start < rows; start += BatchSize)
        {
            var end = Math.Min(start + BatchSize, rows);
            using var scope = NewDisposeScope();
            var block = Distance.Compute(query.narrow(0, start, end - start), reference);
            callback(block, start, end);
        }
    }
}
