using OrleansVectors.Inference.Engines;

namespace OrleansVectors.Inference.Faiss;

/// <summary>
/// The exact-search engine: a Flat index answers searches through the fused CPU engine or the GPU engine when one
/// is chosen (<see cref="SearchEngineSelector"/>), faiss otherwise. The engine follows every mutation under the
/// index's write lock; if it ever cannot (an accelerator failing), it is dropped and faiss answers, so a search is
/// never answered from a stale copy.
/// </summary>
public sealed partial class FaissIndex
{
    private IFlatSearchEngine? _engine;
    private string? _engineNote;

    /// <summary>The engine answering this index's searches.</summary>
    public SearchEngineKind SearchEngine
    {
        get
        {
            using var scope = EnterRead();
            return _engine?.Kind ?? SearchEngineKind.Faiss;
        }
    }

    /// <summary>
    /// The engine in words, for describe and stats: "cpu (fused AVX2/FMA)", "gpu (…)" or "faiss", followed by the
    /// reason when the preferred engine is not the one in use.
    /// </summary>
    public string SearchEngineDescription
    {
        get
        {
            using var scope = EnterRead();
            var engine = _engine?.Description ?? "faiss";
            return _engineNote is null ? engine : $"{engine} ({_engineNote})";
        }
    }

    /// <summary>
    /// Chooses this index's engine again under <paramref name="options"/> (a new index uses
    /// <see cref="SearchEngineOptions.Default"/>). Results do not depend on the engine beyond ties and float rounding.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The index was disposed.</exception>
    public void UseSearchEngine(SearchEngineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        using var scope = EnterExclusive();
        var chosen = SearchEngineSelector.Choose(_handle, Dimension, Metric, _count, IsExactFlat, _engine, options, out var note);
        if (!ReferenceEquals(chosen, _engine))
        {
            _engine?.Dispose();
            _engine = chosen;
        }

        _engineNote = note;
    }

    /// <summary>
    /// Reads every stored vector of a Flat index once, as fast as memory allows, with the thread team a search uses,
    /// and returns their sum: the floor under a single exact query, for benchmarks to compare against.
    /// </summary>
    /// <exception cref="ArgumentException">The index is not a Flat type, or the CPU lacks AVX2.</exception>
    /// <exception cref="ObjectDisposedException">The index was disposed.</exception>
    public double ReadAllStoredVectors()
    {
        using var scope = EnterRead();
        var status = NativeFaissMethods.FlatStreamRead(_handle, out var sum);
        if (status == FaissStatus.Argument)
        {
            throw new ArgumentException($"Only a Flat index can be read through: {FaissStatusExtensions.Failure(status).Message}");
        }

        status.ThrowIfFailed();
        return sum;
    }

    private void ChooseDefaultEngine()
    {
        _engine = SearchEngineSelector.Choose(_handle, Dimension, Metric, _count, IsExactFlat, current: null, SearchEngineOptions.Default, out _engineNote);
    }

    /// <summary>Refuses an add the engine could not hold (device memory), before faiss changes anything.</summary>
    private void EnsureEngineCapacity(long rows) => _engine?.EnsureCapacity(_count + rows);

    /// <summary>Brings the engine in step after a mutation: rows from <paramref name="fromRow"/> on are new or moved.</summary>
    private void SyncEngine(long fromRow)
    {
        if (_engine is null)
        {
            return;
        }

        try
        {
            _engine.Sync(_handle, fromRow, _count);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // faiss holds the change: searching through it stays correct, where a half-synced engine would not
            _engineNote = $"{_engine.Kind.ToString().ToLowerInvariant()} engine dropped: {e.Message}";
            _engine.Dispose();
            _engine = null;
        }
    }

    /// <summary>
    /// Records that a device search failed (the device refused scratch memory, or failed) and faiss answered instead;
    /// runs under the read lock, so the note is written atomically and the engine stays for the next call.
    /// </summary>
    private void NoteFallback(Exception e) => Volatile.Write(ref _engineNote, $"a search fell back to faiss: {e.Message}");

    /// <summary>Whether the engine can answer a call: no per-call faiss parameters (Flat has none) and a k it serves.</summary>
    private static bool IsEngineCall(IFlatSearchEngine engine, NativeFaissMethods.NativeSearchParameters native, int k) =>
        native.NProbe == 0 && native.EfSearch == 0 && k <= engine.MaxK;

    private void DisposeEngine()
    {
        _engine?.Dispose();
        _engine = null;
    }
}
