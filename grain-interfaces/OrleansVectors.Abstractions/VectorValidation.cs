using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace OrleansVectors;

/// <summary>
/// The rules for vectors, checked where they enter: the client before it sends, the grains on what arrives over
/// the wire, the in-process API before it hands them to faiss.
/// </summary>
public static class VectorValidation
{
    /// <summary>Returns the number of <paramref name="dimension"/>-wide rows in <paramref name="vectors"/>.</summary>
    /// <exception cref="ArgumentException">Empty, not a whole number of rows, or a value that is NaN or infinite.</exception>
    public static int RowCount(ReadOnlySpan<float> vectors, int dimension, [CallerArgumentExpression(nameof(vectors))] string? name = null)
    {
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

    /// <summary>Throws when any value is NaN or infinite, naming the first offending row and column.</summary>
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
