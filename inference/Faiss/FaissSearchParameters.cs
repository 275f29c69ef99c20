namespace OrleansVectors.Inference.Faiss;

/// <summary>
/// Per-call search settings. They apply to one call only, so concurrent searches may use different values.
/// A setting left null uses the index's own value; a setting the index type has no use for is an
/// <see cref="ArgumentException"/>.
/// </summary>
public sealed record FaissSearchParameters
{
    /// <summary>IVF indexes: how many inverted lists to probe (1 to nlist; larger is slower and more exact).</summary>
    public int? NProbe { get; init; }

    /// <summary>HNSW indexes: size of the dynamic candidate list (at least k for good recall).</summary>
    public int? EfSearch { get; init; }
}
