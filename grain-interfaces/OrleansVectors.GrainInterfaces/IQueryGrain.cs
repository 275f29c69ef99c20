namespace OrleansVectors.GrainInterfaces;

/// <summary>
/// The query front: embeds a query batch once (when the index has a model), fans it out to every shard and
/// merges their top-k exactly. A stateless worker, so every silo runs as many as it needs; use key 0.
/// </summary>
[Alias("ov.IQueryGrain")]
public interface IQueryGrain : IGrainWithIntegerKey
{
    /// <summary>The k nearest vectors of each query (raw inputs when the index has a model, else embeddings).</summary>
    /// <exception cref="IndexNotFoundException">The index does not exist.</exception>
    /// <exception cref="ArgumentException">Wrong dimension, NaN or infinity in the queries.</exception>
    /// <exception cref="ArgumentOutOfRangeException">k is outside 1 … 2048.</exception>
    /// <exception cref="ShardUnavailableException">A shard failed or timed out and partial answers were not allowed.</exception>
    /// <exception cref="OperationCanceledException">The caller cancelled: shard calls not yet started are not made.</exception>
    [Alias("Search")]
    Task<NeighborResults> SearchAsync(string index, VectorBatch queries, int k, QueryOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Threshold matches: every stored vector within <paramref name="threshold"/> of each query (squared L2 below
    /// it, or inner product above it), sorted closest first; null uses the index's match threshold.
    /// </summary>
    /// <exception cref="InvalidOperationException">No threshold here or in the index spec.</exception>
    [Alias("Match")]
    Task<RangeResults> MatchAsync(string index, VectorBatch queries, float? threshold = null, QueryOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Embeds raw inputs with the index's model (the embeddings themselves when the index has no model).</summary>
    [Alias("Embed")]
    Task<VectorBatch> EmbedAsync(string index, VectorBatch inputs);
}
