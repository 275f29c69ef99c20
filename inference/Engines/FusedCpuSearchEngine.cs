using OrleansVectors.Inference.Faiss;
using static OrleansVectors.Inference.Faiss.NativeFaissMethods;

namespace OrleansVectors.Inference.Engines;

/// <summary>
/// The fused CPU engine of <c>native/ovf_flat.cpp</c> over a Flat index's own storage: it keeps only the squared
/// norms of the stored rows (4 bytes a vector), so it costs no copy of the vectors.
/// </summary>
internal sealed unsafe class FusedCpuSearchEngine : IFlatSearchEngine
{
    private readonly FlatEngineHandle _engine;

    private FusedCpuSearchEngine(FlatEngineHandle engine) => _engine = engine;

    public SearchEngineKind Kind => SearchEngineKind.Cpu;

    public string Description => "cpu (fused AVX2/FMA)";

    public int MaxK => FaissIndex.MaxK;

    /// <summary>The engine for a Flat index, or null (with the reason) for other types or a CPU without AVX2/FMA.</summary>
    public static FusedCpuSearchEngine? TryCreate(FaissIndexHandle index, long count, out string? whyNot)
    {
        var status = FlatEngineCreate(index, out var handle);
        if (status != FaissStatus.Ok)
        {
            handle.Dispose();
            whyNot = FaissStatusExtensions.Failure(status).Message;
            return null;
        }

        var engine = new FusedCpuSearchEngine(handle);
        engine.Sync(index, 0, count);
        whyNot = null;
        return engine;
    }

    public void EnsureCapacity(long count)
    {
    }

    public void Sync(FaissIndexHandle index, long fromRow, long count) => FlatEngineSync(_engine, index, fromRow).ThrowIfFailed();

    public void Search(FaissIndexHandle index, ReadOnlySpan<float> queries, int n, int k, Span<float> distances, Span<long> labels)
    {
        fixed (float* x = queries)
        fixed (float* d = distances)
        fixed (long* l = labels)
        {
            FlatEngineSearch(_engine, index, n, x, k, d, l).ThrowIfFailed();
        }
    }

    public FaissRangeSearchResult RangeSearch(FaissIndexHandle index, ReadOnlySpan<float> queries, int n, float radius)
    {
        nint result;
        fixed (float* x = queries)
        {
            FlatEngineRangeSearch(_engine, index, n, x, radius, out result).ThrowIfFailed();
        }

        return FaissRangeSearchResult.TakeNative(result, n);
    }

    public void Dispose() => _engine.Dispose();
}
