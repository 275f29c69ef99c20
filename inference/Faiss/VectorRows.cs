using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace OrleansVectors.Inference.Faiss;

/// <summary>Views over the 2-D arrays the in-process API accepts.</summary>
internal static class VectorRows
{
    /// <summary>A row-major view over a 2-D array whose second dimension must equal <paramref name="dimension"/>.</summary>
    internal static ReadOnlySpan<float> Of(float[,] vectors, int dimension, [CallerArgumentExpression(nameof(vectors))] string? name = null)
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
}
