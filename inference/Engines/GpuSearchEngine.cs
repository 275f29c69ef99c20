using System.Globalization;
using OrleansVectors.Inference.Faiss;
using static OrleansVectors.Inference.Faiss.NativeFaissMethods;

namespace OrleansVectors.Inference.Engines;

/// <summary>
/// The GPU engine behind a Flat index: <see cref="IlgpuFlatEngine"/> holds a copy of the index's vectors and labels in
/// accelerator memory, appended as the index grows and reloaded when rows move (remove, merge).
/// </summary>
internal sealed unsafe class GpuSearchEngine(IlgpuFlatEngine engine) : IFlatSearchEngine
{
    /// <summary>Rows copied to the device at a time while syncing: bounds the host staging buffers (64 Ki rows).</summary>
    private const int SyncRows = 1 << 16;

    public SearchEngineKind Kind => SearchEngineKind.Gpu;

    public string Description => string.Create(
        CultureInfo.InvariantCulture,
        $"gpu ({engine.DeviceName}, {engine.DeviceBytes / (double)Limits.BytesPerMiB:0.0} of {engine.MemoryBudgetBytes / (double)Limits.BytesPerMiB:0} MiB)");

    public int MaxK => IlgpuFlatEngine.MaxK;

    /// <summary>The engine with the index's rows loaded, or null (with the reason) where the accelerator is missing or refuses.</summary>
    public static GpuSearchEngine? TryCreate(FaissIndexHandle index, int dimension, FaissMetric metric, long count, SearchEngineOptions options, out string? whyNot)
    {
        IlgpuFlatEngine? device = null;
        try
        {
            device = IlgpuFlatEngine.TryCreate(
                dimension,
                metric == FaissMetric.InnerProduct,
                new IlgpuFlatEngineOptions { Device = options.GpuDevice, MemoryBudgetBytes = options.GpuMemoryBudgetBytes });
            if (device is null)
            {
                whyNot = "gpu engine unavailable: no CUDA device";
                return null;
            }

            var gpu = new GpuSearchEngine(device);
            gpu.EnsureCapacity(count);
            gpu.Sync(index, 0, count);
            whyNot = null;
            return gpu;
        }
        catch (Exception e) when (e is InvalidOperationException or NotSupportedException or DllNotFoundException or FaissException)
        {
            device?.Dispose();
            whyNot = $"gpu engine unavailable: {e.Message}";
            return null;
        }
    }

    public void EnsureCapacity(long count) => engine.ThrowIfOverBudget(count);

    public void Sync(FaissIndexHandle index, long fromRow, long count)
    {
        if (fromRow != engine.Count || count < engine.Count)
        {
            // rows moved (remove, merge): reload them all
            engine.Clear();
            fromRow = 0;
        }

        var rows = (int)Math.Min(SyncRows, Math.Max(1, count - fromRow));
        var ids = new long[rows];
        var vectors = new float[(long)rows * engine.Dimension];
        for (var row = fromRow; row < count; row += rows)
        {
            var n = (int)Math.Min(rows, count - row);
            fixed (long* i = ids)
            fixed (float* v = vectors)
            {
                IndexRows(index, row, n, i, v).ThrowIfFailed();
            }

            engine.Append(vectors.AsSpan(0, n * engine.Dimension), ids.AsSpan(0, n));
        }
    }

    public void Search(FaissIndexHandle index, ReadOnlySpan<float> queries, int n, int k, Span<float> distances, Span<long> labels) =>
        engine.Search(queries, k, distances, labels);

    public FaissRangeSearchResult RangeSearch(FaissIndexHandle index, ReadOnlySpan<float> queries, int n, float radius)
    {
        var (offsets, distances, labels) = engine.RangeSearch(queries, radius);
        return new FaissRangeSearchResult(offsets, distances, labels);
    }

    public void Dispose() => engine.Dispose();
}
