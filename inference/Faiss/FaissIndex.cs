using static OrleansVectors.Inference.Faiss.NativeFaissMethods;

namespace OrleansVectors.Inference.Faiss;

/// <summary>
/// A faiss index in this process: creation, properties, locking and disposal. Searching, mutation and
/// serialization live in the other files of this partial class.
/// </summary>
/// <remarks>
/// <para>Thread-safety: <see cref="Search(ReadOnlySpan{float}, int, FaissSearchParameters?)"/>,
/// <see cref="RangeSearch(ReadOnlySpan{float}, float, FaissSearchParameters?)"/>, <see cref="Reconstruct(long)"/>,
/// <see cref="Serialize()"/>, <see cref="Save"/> and the properties may run concurrently with each other. A search
/// with <see cref="FaissSearchParameters.EfSearch"/> on an HNSW index is the exception: faiss 1.7.3 honours a
/// per-call efSearch only when it is set on the index, so such a search runs exclusively.
/// <see cref="Train(ReadOnlySpan{float})"/>, <see cref="Add(ReadOnlySpan{float})"/>, <see cref="AddWithIds"/>,
/// <see cref="Remove"/> and <see cref="Dispose"/> are exclusive: they wait for running calls to finish and
/// hold off new ones until they are done. Nothing here is reentrant.</para>
/// <para>Every argument is validated before it reaches faiss; a call that throws leaves the index as it was.</para>
/// </remarks>
public sealed partial class FaissIndex : IDisposable
{
    /// <summary>
    /// The largest k accepted by <see cref="Search(ReadOnlySpan{float}, int, FaissSearchParameters?)"/>: a bound on the
    /// per-thread heaps and result buffers faiss allocates (CPU faiss has no limit of its own; GPU faiss stops at 2048).
    /// </summary>
    public const int MaxK = 1 << 16;

    /// <summary>The largest per-call <see cref="FaissSearchParameters.EfSearch"/>: faiss allocates a heap of this size per thread (<see cref="Limits.MaxEfSearch"/>, named here too for callers of the binding).</summary>
    public const int MaxEfSearch = Limits.MaxEfSearch;

    private readonly FaissIndexHandle _handle;
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly SearchParameterSupport _capabilities;
    private long _count;
    private bool _isTrained;
    private bool _disposed;
    private int _pins;

    private FaissIndex(FaissIndexHandle handle, string? description)
    {
        _handle = handle;
        Description = description;
        IndexInfo(handle, out var dimension, out _count, out var metric, out var trained).ThrowIfFailed();
        IndexSearchParamsSupported(handle, out _capabilities).ThrowIfFailed();
        Dimension = dimension;
        Metric = metric;
        _isTrained = trained != 0;
        ChooseDefaultEngine();
    }

    /// <summary>Creates an empty index from a faiss index-factory string.</summary>
    /// <param name="dimension">Vector dimension, at least 1.</param>
    /// <param name="description">A faiss index-factory string: "Flat", "IVF100,Flat", "HNSW32", "IDMap,Flat", "IVF64,PQ8", …</param>
    /// <param name="metric">L2 (default) or inner product.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> is less than 1, or the metric is unknown.</exception>
    /// <exception cref="ArgumentException"><paramref name="description"/> is empty, outside the grammar of <see cref="FaissFactoryString"/>, or faiss cannot build it for this dimension.</exception>
    public static FaissIndex Create(int dimension, string description = "Flat", FaissMetric metric = FaissMetric.L2)
    {
        if (!Enum.IsDefined(metric))
        {
            throw new ArgumentOutOfRangeException(nameof(metric), metric, "The metric must be L2 or InnerProduct.");
        }

        // faiss aborts the process on many out-of-range parameters: only strings of the grammar reach it
        FaissFactoryString.Parse(description, dimension);

        var status = IndexFactory(dimension, description, metric, out var handle);
        if (status != FaissStatus.Ok)
        {
            handle.Dispose();
            var failure = FaissStatusExtensions.Failure(status);
            throw new ArgumentException(
                $"faiss cannot build an index from the factory string '{description}' with dimension {dimension}: {failure.Message}",
                nameof(description),
                failure);
        }

        return new FaissIndex(handle, description);
    }

    /// <summary>The vector dimension.</summary>
    public int Dimension { get; }

    /// <summary>The metric distances are reported in.</summary>
    public FaissMetric Metric { get; }

    /// <summary>The factory string the index was created from; null for an index read from bytes or a file.</summary>
    public string? Description { get; }

    /// <summary>Number of stored vectors.</summary>
    /// <exception cref="ObjectDisposedException">The index was disposed.</exception>
    public long Count
    {
        get
        {
            using var scope = EnterRead();
            return _count;
        }
    }

    /// <summary>Whether the index can take vectors; false for IVF and PQ types until <see cref="Train(ReadOnlySpan{float})"/>.</summary>
    /// <exception cref="ObjectDisposedException">The index was disposed.</exception>
    public bool IsTrained
    {
        get
        {
            using var scope = EnterRead();
            return _isTrained;
        }
    }

    /// <summary>Whether <see cref="FaissSearchParameters.NProbe"/> applies (IVF types).</summary>
    public bool SupportsNProbe => _capabilities.HasFlag(SearchParameterSupport.NProbe);

    /// <summary>Whether <see cref="FaissSearchParameters.EfSearch"/> applies (HNSW types).</summary>
    public bool SupportsEfSearch => _capabilities.HasFlag(SearchParameterSupport.EfSearch);

    /// <summary>Whether the index stores its vectors exactly (Flat, alone or under an id map): the types other engines serve.</summary>
    public bool IsExactFlat => _capabilities.HasFlag(SearchParameterSupport.ExactFlat);

    /// <summary>Whether vectors carry caller ids (IDMap types) rather than positions 0 … Count-1.</summary>
    public bool HasIdMap => _capabilities.HasFlag(SearchParameterSupport.IdMap);

    /// <summary>Frees the native index after running calls finish. Later calls throw <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        _lock.EnterWriteLock();
        try
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            DisposeEngine();
            if (Volatile.Read(ref _pins) == 0)
            {
                _handle.Dispose();
            }
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>Ends a <see cref="FaissSerializedView"/>'s pin; the last one frees an index disposed meanwhile.</summary>
    internal void Unpin()
    {
        if (Interlocked.Decrement(ref _pins) == 0)
        {
            _lock.EnterWriteLock();
            try
            {
                if (_disposed)
                {
                    _handle.Dispose(); // a SafeHandle: a second Dispose does nothing
                }
            }
            finally
            {
                _lock.ExitWriteLock();
            }
        }
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"FaissIndex({Description ?? "deserialized"}, d={Dimension}, {Metric}, n={(_disposed ? "disposed" : _count.ToString(System.Globalization.CultureInfo.InvariantCulture))})";

    /// <summary>Reads count and trained state after a mutation and brings the engine in step from <paramref name="fromRow"/>.</summary>
    private void RefreshInfo(long fromRow = 0)
    {
        IndexInfo(_handle, out _, out _count, out _, out var trained).ThrowIfFailed();
        _isTrained = trained != 0;
        SyncEngine(fromRow);
    }

    private LockScope EnterRead()
    {
        _lock.EnterReadLock();
        var scope = new LockScope(_lock, exclusive: false);
        ThrowIfDisposed(scope);
        return scope;
    }

    /// <summary>Exclusive access for a change to the index (refused while a serialized view pins it).</summary>
    private LockScope EnterWrite()
    {
        var scope = EnterExclusive();
        if (_pins > 0)
        {
            scope.Dispose();
            throw new InvalidOperationException("The index is pinned by a serialized view (OpenSerializedView) and cannot change until the view is disposed.");
        }

        return scope;
    }

    /// <summary>Exclusive access that changes nothing a serialized view references (a search setting efSearch).</summary>
    private LockScope EnterExclusive()
    {
        _lock.EnterWriteLock();
        var scope = new LockScope(_lock, exclusive: true);
        ThrowIfDisposed(scope);
        return scope;
    }

    private void ThrowIfDisposed(LockScope scope)
    {
        if (_disposed)
        {
            scope.Dispose();
            throw new ObjectDisposedException(nameof(FaissIndex));
        }
    }

    private void RequireTrained(string operation)
    {
        if (!_isTrained)
        {
            throw new InvalidOperationException(
                $"The index '{Description ?? "deserialized"}' is not trained: call Train with representative vectors before {operation}.");
        }
    }

    /// <summary>Releases the side of the index lock it was taken on; a struct, so taking the lock allocates nothing.</summary>
    private readonly ref struct LockScope(ReaderWriterLockSlim gate, bool exclusive)
    {
        public void Dispose()
        {
            if (exclusive)
            {
                gate.ExitWriteLock();
            }
            else
            {
                gate.ExitReadLock();
            }
        }
    }
}
