using OrleansVectors.Inference.Faiss;

namespace OrleansVectors.Inference.Engines;

/// <summary>
/// An engine that answers a Flat index's exact searches instead of faiss. The owning <see cref="FaissIndex"/> holds it
/// under its own lock: <see cref="Sync"/> and <see cref="EnsureCapacity"/> run exclusively, searches concurrently.
/// </summary>
internal interface IFlatSearchEngine : IDisposable
{
    SearchEngineKind Kind { get; }

    /// <summary>What runs the searches, for describe and stats ("cpu (fused AVX2)", "gpu (NVIDIA H200, 1.2 of 110 GiB)").</summary>
    string Description { get; }

    /// <summary>The largest k the engine answers; larger ones go to faiss.</summary>
    int MaxK { get; }

    /// <summary>Throws, changing nothing, when the engine could not hold <paramref name="count"/> vectors.</summary>
    void EnsureCapacity(long count);

    /// <summary>Brings the engine in step with the index: rows from <paramref name="fromRow"/> on are new or moved.</summary>
    void Sync(FaissIndexHandle index, long fromRow, long count);

    void Search(FaissIndexHandle index, ReadOnlySpan<float> queries, int n, int k, Span<float> distances, Span<long> labels);

    FaissRangeSearchResult RangeSearch(FaissIndexHandle index, ReadOnlySpan<float> queries, int n, float radius);
}
