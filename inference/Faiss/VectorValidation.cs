using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace OrleansVectors.Inference.Faiss;

/// <summary>Argument checks shared by every call that hands vectors to faiss, and by the grains that take vectors over the wire.</summary>
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

    /// <summary>A row-major view over a 2-D array whose second dimension must equal <paramref name="dimension"/>.</summary>
    internal static ReadOnlySpan<float> Rows(float[,] vectors, int dimension, [CallerArgumentExpression(nameof(vectors))] string? name = null)
    {
        ArgumentNullException.ThrowIfNull(vectors, name);
        if (vectors.GetLength(1) != dimension)
        {
            throw new ArgumentException(
                $"Dimension mismatch: the vectors have {vectors.GetLength(1)} columns, the index has dimension {dimension}.", name);
        }

        return MemoryMarshal.CreateReadOnlySpan(
            ref Unsafe.As<byte, float>(ref MemoryMarshal.GetArrayDataReference(vectors)), vectors.Length);
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
