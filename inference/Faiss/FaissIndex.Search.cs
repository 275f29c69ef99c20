using OrleansVectors.Inference.Engines;
using static OrleansVectors.Inference.Faiss.NativeFaissMethods;

namespace OrleansVectors.Inference.Faiss;

/// <summary>
/// k-NN and range search. Searches take the read side of the index lock, so they run concurrently with each
/// other and never with a mutation. faiss parallelises a batch over its OpenMP threads.
/// </summary>
public sealed partial class FaissIndex
{
    /// <summary>Finds the <paramref name="k"/> nearest stored vectors of each query.</summary>
    /// <param name="queries">Row-major queries, a whole number of <see cref="Dimension"/>-wide rows, all finite.</param>
    /// <param name="k">Neighbours per query, 1 to <see cref="MaxK"/>. Larger than <see cref="Count"/> pads with label -1.</param>
    /// <param name="parameters">Per-call settings (nprobe, efSearch), or null for the index's own.</param>
    /// <exception cref="ArgumentException">Empty, ragged or non-finite queries, or a parameter this index type has no use for.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is outside 1 … <see cref="MaxK"/>, or a parameter is not positive.</exception>
    /// <exception cref="InvalidOperationException">The index is not trained.</exception>
    /// <exception cref="ObjectDisposedException">The index was disposed.</exception>
    public FaissKnnResult Search(ReadOnlySpan<float> queries, int k, FaissSearchParameters? parameters = null)
    {
        var n = VectorValidation.RowCount(queries, Dimension);
        CheckK(k, n);
        var distances = new float[n * k];
        var labels = new long[n * k];
        SearchCore(queries, n, k, distances, labels, parameters);
        return new FaissKnnResult(n, k, distances, labels);
    }

    /// <summary>Finds the <paramref name="k"/> nearest stored vectors of each row of <paramref name="queries"/>.</summary>
    /// <exception cref="ArgumentException">The column count differs from <see cref="Dimension"/>; otherwise as the span overload.</exception>
    public FaissKnnResult Search(float[,] queries, int k, FaissSearchParameters? parameters = null) =>
        Search(VectorRows.Of(queries, Dimension), k, parameters);

    /// <summary>
    /// Finds the <paramref name="k"/> nearest neighbours into caller buffers, allocating nothing: the hot path
    /// for callers that reuse buffers.
    /// </summary>
    /// <param name="queries">Row-major queries (n rows).</param>
    /// <param name="k">Neighbours per query.</param>
    /// <param name="distances">Receives n × k distances; must hold at least that many.</param>
    /// <param name="labels">Receives n × k labels; must hold at least that many.</param>
    /// <param name="parameters">Per-call settings, or null.</param>
    /// <exception cref="ArgumentException">A buffer is too small; otherwise as the allocating overload.</exception>
    public void Search(ReadOnlySpan<float> queries, int k, Span<float> distances, Span<long> labels, FaissSearchParameters? parameters = null)
    {
        var n = VectorValidation.RowCount(queries, Dimension);
        CheckK(k, n);
        var needed = n * k;
        if (distances.Length < needed)
        {
            throw new ArgumentException($"The distances buffer holds {distances.Length} values; {n} queries × k={k} need {needed}.", nameof(distances));
        }

        if (labels.Length < needed)
        {
            throw new ArgumentException($"The labels buffer holds {labels.Length} values; {n} queries × k={k} need {needed}.", nameof(labels));
        }

        SearchCore(queries, n, k, distances, labels, parameters);
    }

    /// <summary>
    /// Finds every stored vector within <paramref name="radius"/> of each query: for L2, squared distance below the
    /// radius; for inner product, similarity above it.
    /// </summary>
    /// <param name="queries">Row-major queries, a whole number of rows, all finite.</param>
    /// <param name="radius">A finite threshold, in the units of <see cref="Metric"/> (squared L2 distance or inner product).</param>
    /// <param name="parameters">Per-call settings, or null.</param>
    /// <exception cref="ArgumentException">Bad queries, a NaN or infinite radius, or an inapplicable parameter.</exception>
    /// <exception cref="InvalidOperationException">The index is not trained.</exception>
    /// <exception cref="FaissException">The index type has no range search (for example HNSW or PQ in faiss 1.7.3).</exception>
    /// <exception cref="ObjectDisposedException">The index was disposed.</exception>
    public unsafe FaissRangeSearchResult RangeSearch(ReadOnlySpan<float> queries, float radius, FaissSearchParameters? parameters = null)
    {
        var n = VectorValidation.RowCount(queries, Dimension);
        if (!float.IsFinite(radius))
        {
            throw new ArgumentException($"The radius must be a finite number; got {radius}.", nameof(radius));
        }

        if (parameters?.EfSearch is not null)
        {
            throw new ArgumentException("EfSearch does not apply to range search (HNSW has no range search in faiss 1.7.3).", nameof(parameters));
        }

        var native = ToNative(parameters);
        nint result;
        using (EnterRead())
        {
            RequireTrained("searching");
            if (_engine is { } engine && IsEngineCall(engine, native, k: 1))
            {
                try
                {
                    return engine.RangeSearch(_handle, queries, n, radius);
                }
                catch (InvalidOperationException e) when (engine.Kind == SearchEngineKind.Gpu)
                {
                    NoteFallback(e);
                }
            }

            fixed (float* x = queries)
            {
                IndexRangeSearch(_handle, n, x, radius, &native, out result).ThrowIfFailed();
            }
        }

        return FaissRangeSearchResult.TakeNative(result, n);
    }

    /// <summary>Range search over the rows of a 2-D array; see the span overload.</summary>
    public FaissRangeSearchResult RangeSearch(float[,] queries, float radius, FaissSearchParameters? parameters = null) =>
        RangeSearch(VectorRows.Of(queries, Dimension), radius, parameters);

    private unsafe void SearchCore(ReadOnlySpan<float> queries, int n, int k, Span<float> distances, Span<long> labels, FaissSearchParameters? parameters)
    {
        var native = ToNative(parameters);

        // faiss 1.7.3 applies a per-call efSearch only by setting it on the index for the call.
        using var scope = native.EfSearch > 0 ? EnterExclusive() : EnterRead();
        RequireTrained("searching");
        if (_engine is { } engine && IsEngineCall(engine, native, k))
        {
            try
            {
                engine.Search(_handle, queries, n, k, distances, labels);
                return;
            }
            catch (InvalidOperationException e) when (engine.Kind == SearchEngineKind.Gpu)
            {
                NoteFallback(e); // faiss holds the same vectors
            }
        }

        fixed (float* x = queries)
        fixed (float* d = distances)
        fixed (long* l = labels)
        {
            IndexSearch(_handle, n, x, k, &native, d, l).ThrowIfFailed();
        }
    }

    private static void CheckK(int k, int queryCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(k, MaxK);
        if ((long)queryCount * k > Array.MaxLength)
        {
            throw new ArgumentException($"{queryCount} queries × k={k} results exceed the largest array; search in smaller batches.", nameof(k));
        }
    }

    private NativeSearchParameters ToNative(FaissSearchParameters? parameters)
    {
        if (parameters is null)
        {
            return default;
        }

        if (parameters.NProbe is { } nprobe)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(nprobe, 1, nameof(FaissSearchParameters.NProbe));
            if (!SupportsNProbe)
            {
                throw new ArgumentException($"NProbe applies only to IVF indexes; '{Description ?? "this index"}' is not one.", nameof(parameters));
            }
        }

        if (parameters.EfSearch is { } efSearch)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(efSearch, 1, nameof(FaissSearchParameters.EfSearch));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(efSearch, MaxEfSearch, nameof(FaissSearchParameters.EfSearch));
            if (!SupportsEfSearch)
            {
                throw new ArgumentException($"EfSearch applies only to HNSW indexes; '{Description ?? "this index"}' is not one.", nameof(parameters));
            }
        }

        return new NativeSearchParameters { NProbe = parameters.NProbe ?? 0, EfSearch = parameters.EfSearch ?? 0 };
    }
}
