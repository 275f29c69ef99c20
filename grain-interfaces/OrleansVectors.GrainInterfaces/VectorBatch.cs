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

    /// <summary>A batch of the given rows of this one, in the given order (one copy of their values).</summary>
    /// <param name="rows">Row numbers, each below <see cref="Count"/>; at least one.</param>
    /// <exception cref="ArgumentException">No rows.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A row number is out of range.</exception>
    public VectorBatch SelectRows(ReadOnlySpan<int> rows)
    {
        if (rows.IsEmpty)
        {
            throw new ArgumentException("At least one row is required.", nameof(rows));
        }

        var rowBytes = Dimension * sizeof(float);
        var data = new byte[rows.Length * rowBytes];
        for (var i = 0; i < rows.Length; i++)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(rows[i], nameof(rows));
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(rows[i], Count, nameof(rows));
            _data.AsSpan(rows[i] * rowBytes, rowBytes).CopyTo(data.AsSpan(i * rowBytes));
        }

        return new VectorBatch(data, rows.Length, Dimension);
    }
}
