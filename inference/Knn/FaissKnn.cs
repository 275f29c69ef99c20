using OrleansVectors.Inference.Faiss;
using OrleansVectors.Inference.Models;
using static TorchSharp.torch;

namespace OrleansVectors.Inference.Knn;

/// <summary>
/// k-nearest neighbours with a faiss index, as the seed's <c>FaissKNN</c>. With <see cref="ResetBefore"/> each
/// search builds a fresh index from its reference; otherwise searches use (and a given reference is added to) the
/// index built by <see cref="Train"/>, <see cref="Add"/> or <see cref="Load"/>. With <see cref="ResetAfter"/> the
/// index is dropped after each search.
/// </summary>
/// <remarks>
/// Thread-safe: searches of the held index (no reference, no reset) run concurrently; everything that changes
/// the index runs alone. Distances are faiss's: squared L2, or inner product for inner-product indexes.
/// faiss here is Debian's CPU build: <see cref="Gpus"/> is validated and recorded, and searches run on the CPU
/// even when CUDA is available; results come back on the query's device.
/// </remarks>
public sealed class FaissKnn : ITrainableKnn, IDisposable
{
    private readonly Func<int, FaissIndex> _indexInit;
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private FaissIndex? _index;

    /// <summary>Creates a faiss knn function.</summary>
    /// <param name="resetBefore">Build a fresh index for every search (default true, as the seed).</param>
    /// <param name="resetAfter">Drop the index after every search (default true, as the seed).</param>
    /// <param name="indexInit">Makes an empty index for a dimension; default Flat L2.</param>
    /// <param name="gpus">GPU ordinals to use where a GPU faiss is available; null for all. Must not be empty.</param>
    /// <exception cref="ArgumentException"><paramref name="gpus"/> is empty or has a negative ordinal.</exception>
    public FaissKnn(bool resetBefore = true, bool resetAfter = true, Func<int, FaissIndex>? indexInit = null, IReadOnlyList<int>? gpus = null)
    {
        if (gpus is not null && (gpus.Count == 0 || gpus.Any(g => g < 0)))
        {
            throw new ArgumentException("gpus must be a non-empty list of GPU ordinals (0, 1, …), or null for all GPUs.", nameof(gpus));
        }

        ResetBefore = resetBefore;
        ResetAfter = resetAfter;
        Gpus = gpus;
        _indexInit = indexInit ?? (d => FaissIndex.Create(d));
    }

    /// <summary>Creates a faiss knn function whose indexes come from a faiss index-factory string.</summary>
    /// <param name="factory">The factory string, e.g. "Flat", "HNSW32", "IVF256,Flat" (IVF types are trained on each reference).</param>
    /// <param name="metric">L2 (default) or inner product.</param>
    /// <param name="resetBefore">Build a fresh index for every search.</param>
    /// <param name="resetAfter">Drop the index after every search.</param>
    /// <param name="gpus">GPU ordinals, or null.</param>
    public FaissKnn(string factory, FaissMetric metric = FaissMetric.L2, bool resetBefore = true, bool resetAfter = true, IReadOnlyList<int>? gpus = null)
        : this(resetBefore, resetAfter, FactoryInit(factory, metric), gpus)
    {
    }

    /// <summary>Whether each search builds a fresh index.</summary>
    public bool ResetBefore { get; }

    /// <summary>Whether each search drops the index afterwards.</summary>
    public bool ResetAfter { get; }

    /// <summary>The GPU ordinals given, or null.</summary>
    public IReadOnlyList<int>? Gpus { get; }

    /// <summary>Number of vectors in the held index, or null when there is none.</summary>
    public long? Count
    {
        get
        {
            _lock.EnterReadLock();
            try
            {
                return _index?.Count;
            }
            finally
            {
                _lock.ExitReadLock();
            }
        }
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">Bad embeddings or a dimension that differs from the index's.</exception>
    /// <exception cref="ArgumentOutOfRangeException">k is less than 1 or more than faiss allows (<see cref="FaissIndex.MaxK"/>). A k above the reference's size pads each row with index -1 at distance <see cref="float.MaxValue"/>, as the seed does.</exception>
    /// <exception cref="InvalidOperationException">No index is held and <see cref="ResetBefore"/> is off: train, add to or load one first.</exception>
    public KnnResult Search(Tensor query, int k, Tensor? reference = null, bool referenceIncludesQuery = false)
    {
        TensorChecks.RequireEmbeddings(query);
        var d = (int)query.shape[1];
        if (reference is not null)
        {
            TensorChecks.RequireEmbeddings(reference, d);
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        var fetch = referenceIncludesQuery ? k + 1 : k;
        var readOnly = !ResetBefore && !ResetAfter && reference is null;
        if (readOnly)
        {
            _lock.EnterReadLock();
        }
        else
        {
            _lock.EnterWriteLock();
        }

        try
        {
            var fresh = ResetBefore ? _indexInit(d) : null;
            try
            {
                var result = SearchIndex(fresh ?? _index ?? throw NoIndex(), query, fetch, reference);
                if (ResetAfter)
                {
                    Replace(null);
                }
                else if (fresh is not null)
                {
                    Replace(fresh);
                    fresh = null;
                }

                return referenceIncludesQuery ? RemoveSelf(result) : result;
            }
            finally
            {
                fresh?.Dispose();
            }
        }
        finally
        {
            if (readOnly)
            {
                _lock.ExitReadLock();
            }
            else
            {
                _lock.ExitWriteLock();
            }
        }
    }

    /// <summary>Replaces the index with a new one (from the index init) holding <paramref name="embeddings"/>; IVF types are trained on them.</summary>
    /// <exception cref="ArgumentException">Bad embeddings.</exception>
    public void Train(Tensor embeddings)
    {
        TensorChecks.RequireEmbeddings(embeddings);
        var index = _indexInit((int)embeddings.shape[1]);
        try
        {
            TensorInterop.WithRows(embeddings, rows => Fill(index, rows));
        }
        catch
        {
            index.Dispose();
            throw;
        }

        WithWriteLock(() => Replace(index));
    }

    /// <summary>Adds embeddings to the held index.</summary>
    /// <exception cref="ArgumentException">Bad embeddings or a dimension that differs from the index's.</exception>
    /// <exception cref="InvalidOperationException">No index is held: call <see cref="Train"/> or <see cref="Load"/> first.</exception>
    public void Add(Tensor embeddings)
    {
        TensorChecks.RequireEmbeddings(embeddings);
        WithWriteLock(() =>
        {
            var index = _index ?? throw NoIndex();
            RequireDimension(index, embeddings);
            TensorInterop.WithRows(embeddings, rows => Fill(index, rows));
        });
    }

    /// <summary>Writes the held index to a file (faiss's format, readable by python's <c>faiss.read_index</c>).</summary>
    /// <exception cref="InvalidOperationException">No index is held.</exception>
    public void Save(string path)
    {
        _lock.EnterReadLock();
        try
        {
            (_index ?? throw NoIndex()).Save(path);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Replaces the held index with one read from a file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a faiss index.</exception>
    public void Load(string path)
    {
        var index = FaissIndex.Load(path);
        WithWriteLock(() => Replace(index));
    }

    /// <summary>Drops the held index.</summary>
    public void Reset() => WithWriteLock(() => Replace(null));

    /// <inheritdoc/>
    public void Dispose() => Reset();

    private static Func<int, FaissIndex> FactoryInit(string factory, FaissMetric metric)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(factory);
        return d => FaissIndex.Create(d, factory, metric);
    }

    private static KnnResult SearchIndex(FaissIndex index, Tensor query, int fetch, Tensor? reference)
    {
        RequireDimension(index, query);
        if (fetch > FaissIndex.MaxK)
        {
            throw new ArgumentOutOfRangeException(nameof(fetch), fetch, $"k={fetch} neighbours (including a row's own index where the reference includes the query) are more than faiss's limit of {FaissIndex.MaxK}.");
        }

        // k above the reference's size pads, as faiss and the seed do: index -1 at distance float.MaxValue

        if (reference is not null)
        {
            TensorInterop.WithRows(reference, rows => Fill(index, rows));
        }

        var result = TensorInterop.WithRows(query, rows => index.Search(rows, fetch));
        var (distances, indices) = TensorInterop.ToTensors(result, query.device);
        return new KnnResult(distances, indices);
    }

    /// <summary>Adds rows, training the index on them first where its type needs training (IVF, PQ).</summary>
    private static bool Fill(FaissIndex index, ReadOnlySpan<float> rows)
    {
        if (!index.IsTrained)
        {
            index.Train(rows);
        }

        index.Add(rows);
        return true;
    }

    private static KnnResult RemoveSelf(KnnResult result)
    {
        using (result)
        {
            return SelfMatches.Remove(result.Distances, result.Indices);
        }
    }

    private static void RequireDimension(FaissIndex index, Tensor embeddings)
    {
        if (embeddings.shape[1] != index.Dimension)
        {
            throw new ArgumentException($"Dimension mismatch: the embeddings have {embeddings.shape[1]} columns, the index has dimension {index.Dimension}.", nameof(embeddings));
        }
    }

    private static InvalidOperationException NoIndex() =>
        new("The knn function has no index: train it (InferenceModel.TrainKnn), add to it, or load one first.");

    private void Replace(FaissIndex? index)
    {
        var old = _index;
        _index = index;
        old?.Dispose();
    }

    private void WithWriteLock(Action action)
    {
        _lock.EnterWriteLock();
        try
        {
            action();
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }
}
