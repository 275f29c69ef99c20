namespace OrleansVectors.Testing;

/// <summary>Seeded synthetic vectors, so every run and the python reference see the same inputs.</summary>
public static class TestData
{
    /// <summary>Uniform values in [-1, 1), row-major.</summary>
    public static float[] Uniform(int count, int dimension, int seed)
    {
        var random = new Random(seed);
        var values = new float[count * dimension];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (random.NextSingle() * 2) - 1;
        }

        return values;
    }

    /// <summary>
    /// Coordinates in {0, 1, 2}: few distinct distances, all exactly representable, so equal distances are exactly
    /// equal and duplicates abound — the data that tests tie-breaking.
    /// </summary>
    public static float[] TieHeavy(int count, int dimension, int seed)
    {
        var random = new Random(seed);
        var values = new float[count * dimension];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = random.Next(3);
        }

        return values;
    }

    /// <summary>Gaussian blobs around <paramref name="clusters"/> random centres: structure for IVF and k-means.</summary>
    public static float[] Blobs(int count, int dimension, int clusters, int seed, float spread = 0.15f)
    {
        var random = new Random(seed);
        var centres = Uniform(clusters, dimension, seed + 1);
        var values = new float[count * dimension];
        for (var i = 0; i < count; i++)
        {
            var c = random.Next(clusters);
            for (var j = 0; j < dimension; j++)
            {
                values[(i * dimension) + j] = centres[(c * dimension) + j] + (spread * Gaussian(random));
            }
        }

        return values;
    }

    /// <summary>Scales every row to unit L2 norm.</summary>
    public static float[] Normalized(float[] values, int dimension)
    {
        var result = (float[])values.Clone();
        for (var offset = 0; offset < result.Length; offset += dimension)
        {
            var row = result.AsSpan(offset, dimension);
            var norm = System.Numerics.Tensors.TensorPrimitives.Norm(row);
            System.Numerics.Tensors.TensorPrimitives.Divide(row, norm, row);
        }

        return result;
    }

    public static float[] Row(float[] values, int dimension, long row) =>
        values.AsSpan(checked((int)(row * dimension)), dimension).ToArray();

    private static float Gaussian(Random random)
    {
        // Box-Muller
        var u1 = 1.0 - random.NextDouble();
        var u2 = random.NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2));
    }
}
