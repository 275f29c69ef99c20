using static OrleansVectors.Inference.Faiss.NativeFaissMethods;

namespace OrleansVectors.Inference.Faiss;

/// <summary>
/// Training, adding, removing and reconstructing. Mutations take the write side of the index lock: they wait
/// for running searches and block new ones. Every argument is checked before faiss sees it.
/// </summary>
public sealed partial class FaissIndex
{
    /// <summary>Trains the index (IVF quantizers, PQ codebooks) on representative vectors. A no-op for Flat and HNSW.</summary>
    /// <param name="vectors">Row-major training vectors, all finite. IVF with nlist lists needs at least nlist of them.</param>
    /// <exception cref="ArgumentException">Empty, ragged or non-finite vectors.</exception>
    /// <exception cref="FaissException">
    /// faiss rejected the training set (for example fewer points than lists). For two-stage types (IVF with PQ) a
    /// failure in the second stage can leave the first trained; the index stays untrained and holds no vectors.
    /// </exception>
    /// <exception cref="InvalidOperationException">The index is trained and holds vectors: retraining would invalidate their codes.</exception>
    /// <exception cref="ObjectDisposedException">The index was disposed.</exception>
    public unsafe void Train(ReadOnlySpan<float> vectors)
    {
        var n = VectorValidation.RowCount(vectors, Dimension);
        using var scope = EnterWrite();
        if (_isTrained && _count > 0)
        {
            throw new InvalidOperationException($"The index '{Description ?? "deserialized"}' already holds {_count} vectors; retraining would invalidate them. Train a new index.");
        }

        try
        {
            fixed (float* x = vectors)
            {
                IndexTrain(_handle, n, x).ThrowIfFailed();
            }
        }
        finally
        {
            RefreshInfo();
        }
    }

    /// <summary>Trains on the rows of a 2-D array; see the span overload.</summary>
    public void Train(float[,] vectors) => Train(VectorRows.Of(vectors, Dimension));

    /// <summary>Adds vectors, numbered Count, Count+1, …. IDMap types take ids only: use <see cref="AddWithIds"/>.</summary>
    /// <param name="vectors">Row-major vectors, a whole number of <see cref="Dimension"/>-wide rows, all finite.</param>
    /// <exception cref="ArgumentException">Empty, ragged or non-finite vectors.</exception>
    /// <exception cref="InvalidOperationException">The index is not trained, or it is an IDMap type.</exception>
    /// <exception cref="ObjectDisposedException">The index was disposed.</exception>
    public unsafe void Add(ReadOnlySpan<float> vectors)
    {
        var n = VectorValidation.RowCount(vectors, Dimension);
        if (HasIdMap)
        {
            throw new InvalidOperationException($"The index '{Description ?? "deserialized"}' maps caller ids: add vectors with AddWithIds.");
        }

        using var scope = EnterWrite();
        RequireTrained("adding vectors");
        EnsureEngineCapacity(n);
        var before = _count;
        try
        {
            fixed (float* x = vectors)
            {
                IndexAdd(_handle, n, x).ThrowIfFailed();
            }
        }
        finally
        {
            RefreshInfo(before);
        }
    }

    /// <summary>Adds the rows of a 2-D array; see the span overload.</summary>
    public void Add(float[,] vectors) => Add(VectorRows.Of(vectors, Dimension));

    /// <summary>
    /// Adds vectors under caller ids. Only index types that map ids (factory strings starting "IDMap" or "IDMap2") or
    /// IVF types, whose lists store ids, accept ids (<see cref="FaissIndexLayout.TakesIds"/>).
    /// </summary>
    /// <param name="vectors">Row-major vectors, all finite.</param>
    /// <param name="ids">One non-negative id per vector (-1 is faiss's "no result" marker).</param>
    /// <exception cref="ArgumentException">Bad vectors, or the id count differs from the vector count.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An id is negative.</exception>
    /// <exception cref="InvalidOperationException">The index is not trained.</exception>
    /// <exception cref="FaissException">The index type does not take ids (plain Flat or HNSW).</exception>
    /// <exception cref="ObjectDisposedException">The index was disposed.</exception>
    public unsafe void AddWithIds(ReadOnlySpan<float> vectors, ReadOnlySpan<long> ids)
    {
        var n = VectorValidation.RowCount(vectors, Dimension);
        VectorValidation.RequireIds(ids, n);

        using var scope = EnterWrite();
        RequireTrained("adding vectors");
        EnsureEngineCapacity(n);
        var before = _count;
        try
        {
            fixed (float* x = vectors)
            fixed (long* i = ids)
            {
                IndexAddWithIds(_handle, n, x, i).ThrowIfFailed();
            }
        }
        finally
        {
            RefreshInfo(before);
        }
    }

    /// <summary>
    /// Removes the vectors with the given ids and returns how many were present. On index types without an id
    /// map (plain Flat), faiss renumbers the remaining vectors to stay contiguous.
    /// </summary>
    /// <exception cref="FaissException">The index type cannot remove (HNSW in faiss 1.7.3, or an IDMap over IVF: give IVF types ids directly).</exception>
    /// <exception cref="ObjectDisposedException">The index was disposed.</exception>
    public unsafe long Remove(ReadOnlySpan<long> ids)
    {
        using var scope = EnterWrite();
        try
        {
            fixed (long* i = ids)
            {
                IndexRemoveIds(_handle, ids.Length, i, out var removed).ThrowIfFailed();
                return removed;
            }
        }
        finally
        {
            RefreshInfo();
        }
    }

    /// <summary>Returns the stored vector with the given id (a copy; lossy for PQ and SQ types).</summary>
    /// <exception cref="KeyNotFoundException">No vector has that id.</exception>
    /// <exception cref="FaissException">The index type cannot reconstruct (IVF without a direct map, IDMap without the "2" variant).</exception>
    /// <exception cref="ObjectDisposedException">The index was disposed.</exception>
    public float[] Reconstruct(long id)
    {
        var vector = new float[Dimension];
        Reconstruct(id, vector);
        return vector;
    }

    /// <summary>Writes the stored vector with the given id into <paramref name="destination"/> (at least <see cref="Dimension"/> long).</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <see cref="Dimension"/>.</exception>
    /// <inheritdoc cref="Reconstruct(long)"/>
    public unsafe void Reconstruct(long id, Span<float> destination)
    {
        if (destination.Length < Dimension)
        {
            throw new ArgumentException($"The destination holds {destination.Length} values; the dimension is {Dimension}.", nameof(destination));
        }

        using var scope = EnterRead();
        FaissStatus status;
        fixed (float* output = destination)
        {
            status = IndexReconstruct(_handle, id, output);
        }

        if (status == FaissStatus.NotFound)
        {
            throw new KeyNotFoundException(HasIdMap
                ? $"No vector has id {id}."
                : $"No vector has id {id}: this index numbers its {_count} vectors 0 … {_count - 1}.");
        }

        status.ThrowIfFailed();
    }

    /// <summary>
    /// Copies the ids and vectors of stored rows <paramref name="offset"/> … in storage order into
    /// <paramref name="ids"/> (as many rows as it holds) and <paramref name="vectors"/> (rows × <see cref="Dimension"/>):
    /// the id map's ids, or the positions when the index has none. Vectors are lossy for PQ and SQ types.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The rows run past <see cref="Count"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="vectors"/> does not hold rows × <see cref="Dimension"/> values.</exception>
    /// <exception cref="FaissException">The index type cannot reconstruct by position (IVF without a direct map).</exception>
    /// <exception cref="ObjectDisposedException">The index was disposed.</exception>
    public unsafe void ReadRows(long offset, Span<long> ids, Span<float> vectors)
    {
        if ((long)vectors.Length != (long)ids.Length * Dimension)
        {
            throw new ArgumentException($"{ids.Length} rows need {(long)ids.Length * Dimension} values; the destination holds {vectors.Length}.", nameof(vectors));
        }

        using var scope = EnterRead();
        if (offset < 0 || offset > _count - ids.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), offset, $"Rows {offset} … {offset + ids.Length - 1} run past the {_count} stored.");
        }

        fixed (long* i = ids)
        fixed (float* v = vectors)
        {
            IndexRows(_handle, offset, ids.Length, i, v).ThrowIfFailed();
        }
    }

    /// <summary>
    /// Moves every vector of <paramref name="source"/> into this index, keeping their ids; <paramref name="source"/>
    /// is left empty. Both must have the same dimension, metric and a mergeable type: flat-code types (Flat, PQ, SQ),
    /// alone or under the same kind of id map, or IVF types that share one trained quantizer.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="source"/> is this index, or its dimension or metric differs.</exception>
    /// <exception cref="FaissException">The types cannot be merged; both indexes are as they were.</exception>
    /// <exception cref="ObjectDisposedException">Either index was disposed.</exception>
    public void MergeFrom(FaissIndex source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (ReferenceEquals(source, this))
        {
            throw new ArgumentException("An index cannot be merged into itself.", nameof(source));
        }

        if (source.Dimension != Dimension || source.Metric != Metric)
        {
            throw new ArgumentException(
                $"The source has dimension {source.Dimension} and metric {source.Metric}; this index has {Dimension} and {Metric}.", nameof(source));
        }

        using var target = EnterWrite();
        using var from = source.EnterWrite();
        EnsureEngineCapacity(source._count);
        var before = _count;
        try
        {
            IndexMergeFrom(_handle, source._handle).ThrowIfFailed();
        }
        finally
        {
            RefreshInfo(before);
            source.RefreshInfo();
        }
    }
}
