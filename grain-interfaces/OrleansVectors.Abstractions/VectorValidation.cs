using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace OrleansVectors;

/// <summary>
/// The rules for vectors and their ids, one exception type per rule, checked where they enter: the client before it
/// sends, the first grain that receives them over the wire, the in-process API's public methods before faiss. Inner
/// layers that receive only checked input assert instead of checking again.
/// </summary>
/// <remarks>
/// The rules: at least one row, whole rows, finite values (<see cref="RowCount"/>, <see cref="RequireFinite"/>); ids
/// for faiss, one per row and none negative (<see cref="RequireIds"/>); ids a caller gives a cluster index, also
/// distinct (<see cref="RequireCallerIds"/>).
/// </remarks>
public static class VectorValidation
{
    /// <summary>Returns the number of <paramref name="dimension"/>-wide rows in <paramref name="vectors"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> is less than 1.</exception>
    /// <exception cref="ArgumentException">Empty, not a whole number of rows, or a value that is NaN or infinite.</exception>
    public static int RowCount(ReadOnlySpan<float> vectors, int dimension, [CallerArgumentExpression(nameof(vectors))] string? name = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        if (vectors.IsEmpty)
        {
            throw new ArgumentException("At least one vector is required; the input is empty.", name);
        }

        if (vectors.Length % dimension != 0)
        {
            throw new ArgumentException(
                $"The input holds {vectors.Length} values, which is not a whole number of {dimension}-dimensional vectors (ragged or wrong dimension).",
                name);
        }

        RequireFinite(vectors, dimension, name);
        return vectors.Length / dimension;
    }

    /// <summary>
    /// The in-process API's rule for ids: one id per row, none negative (-1 is faiss's "no result" label). faiss
    /// accepts an id twice, so this rule does not ask for distinct ids.
    /// </summary>
    /// <exception cref="ArgumentException">The id count differs from <paramref name="rows"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An id is negative.</exception>
    public static void RequireIds(ReadOnlySpan<long> ids, int rows, [CallerArgumentExpression(nameof(ids))] string? name = null)
    {
        RequireOnePerRow(ids, rows, name);
        var negative = ids.IndexOfAnyInRange(long.MinValue, -1);
        if (negative >= 0)
        {
            throw new ArgumentOutOfRangeException(name, ids[negative], $"Ids must be non-negative; ids[{negative}] is {ids[negative]}.");
        }
    }

    /// <summary>
    /// The cluster's rule for ids a caller gives an index, checked by the client and by the grain that receives
    /// them: one id per row, none negative, none twice (an index's id names one vector). Every breach is an
    /// <see cref="ArgumentException"/> naming the row.
    /// </summary>
    /// <exception cref="ArgumentException">The id count differs from <paramref name="rows"/>, an id is negative, or two rows have the same id.</exception>
    public static void RequireCallerIds(ReadOnlySpan<long> ids, int rows, [CallerArgumentExpression(nameof(ids))] string? name = null)
    {
        RequireOnePerRow(ids, rows, name);
        var seen = new Dictionary<long, int>(ids.Length);
        for (var row = 0; row < ids.Length; row++)
        {
            if (ids[row] < 0)
            {
                throw new ArgumentException($"Row {row} has the negative id {ids[row]}; ids are 0 or more.", name);
            }

            if (!seen.TryAdd(ids[row], row))
            {
                throw new ArgumentException($"Rows {seen[ids[row]]} and {row} have the same id {ids[row]}.", name);
            }
        }
    }

    /// <summary>Throws when any value is NaN or infinite, naming the first offending row and column.</summary>
    /// <exception cref="ArgumentException">A value is NaN or infinite.</exception>
    public static void RequireFinite(ReadOnlySpan<float> values, int dimension, string? name)
    {
        if (TensorPrimitives.IsFiniteAll(values))
        {
            return;
        }

        var index = FirstNonFinite(values);
        throw new ArgumentException(
            $"Vector {index / dimension} has a non-finite value ({values[index]}) at position {index % dimension}; NaN and infinity are not allowed.",
            name);
    }

    private static void RequireOnePerRow(ReadOnlySpan<long> ids, int rows, string? name)
    {
        if (ids.Length != rows)
        {
            throw new ArgumentException($"{ids.Length} ids were given for {rows} vectors; there must be exactly one id per vector.", name);
        }
    }

    private static int FirstNonFinite(ReadOnlySpan<float> values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                return i;
            }
        }

        return 0;
    }
}
