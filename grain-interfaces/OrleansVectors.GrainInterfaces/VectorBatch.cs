using System.Runtime.InteropServices;

namespace OrleansVectors.GrainInterfaces;

/// <summary>
/// A batch of float vectors as one block of bytes: Orleans copies a byte array as one block, where a float array
/// would be encoded element by element.
/// </summary>
[GenerateSerializer, Immutable, Alias("ov.VectorBatch")]
public sealed class VectorBatch
{
    /// <summary>The largest batch one message carries (64 MiB of floats); larger inputs are sent in several batches.</summary>
    public const int MaxBytes = 64 << 20;

    [Id(0)] private readonly byte[] _data;

    /// <summary>Wraps row-major values; use <see cref="FromRows"/>.</summary>
    private VectorBatch(byte[] data, int count, int dimension)
    {
        _data = data;
        Count = count;
        Dimension = dimension;
    }

    /// <summary>Number of vectors.</summary>
    [Id(1)] public int Count { get; }

    /// <summary>Values per vector.</summary>
    [Id(2)] public int Dimension { get; }

    /// <summary>The values, row-major.</summary>
    public ReadOnlySpan<float> Values => MemoryMarshal.Cast<byte, float>(_data);

    /// <summary>Copies row-major values into a batch.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> is less than 1.</exception>
    /// <exception cref="ArgumentException">The values are empty, not a whole number of rows, or larger than <see cref="MaxBytes"/>.</exception>
    public static VectorBatch FromRows(ReadOnlySpan<float> values, int dimension)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        if (values.IsEmpty || values.Length % dimension != 0)
        {
            throw new ArgumentException(
                $"A batch needs a whole, non-zero number of {dimension}-dimensional vectors; got {values.Length} values.", nameof(values));
        }

        if ((long)values.Length * sizeof(float) > MaxBytes)
        {
            throw new ArgumentException(
                $"A batch holds at most {MaxBytes >> 20} MiB ({MaxBytes / sizeof(float) / dimension} vectors of dimension {dimension}); got {values.Length / dimension} vectors. Send it in parts.",
                nameof(values));
        }

        return new VectorBatch(MemoryMarshal.AsBytes(values).ToArray(), values.Length / dimension, dimension);
    }
}
