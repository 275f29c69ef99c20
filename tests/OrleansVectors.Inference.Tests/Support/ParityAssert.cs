namespace OrleansVectors.Inference.Tests.Support;

/// <summary>Result comparisons that tolerate float rounding and the order of exact ties, and nothing else.</summary>
internal static class ParityAssert
{
    /// <summary>Relative closeness with an absolute floor for values near zero.</summary>
    public static void Close(double expected, double actual, double relative, string what)
    {
        var tolerance = relative * Math.Max(1.0, Math.Abs(expected));
        Assert.True(Math.Abs(expected - actual) <= tolerance, $"{what}: expected {expected}, got {actual} (tolerance {tolerance})");
    }

    public static void AllClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double relative, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Close(expected[i], actual[i], relative, $"{what}[{i}]");
        }
    }

    /// <summary>
    /// Same k-NN rows: distances close everywhere; ids equal except where the distance is tied (within the
    /// tolerance) with a neighbour in the same row, where only the set of ids among the tie must agree.
    /// </summary>
    public static void SameNeighbours(
        ReadOnlySpan<float> expectedDistances, ReadOnlySpan<long> expectedLabels,
        ReadOnlySpan<float> actualDistances, ReadOnlySpan<long> actualLabels,
        int k, double relative)
    {
        Assert.Equal(expectedLabels.Length, actualLabels.Length);
        for (var row = 0; row * k < expectedLabels.Length; row++)
        {
            var ed = expectedDistances.Slice(row * k, k);
            var el = expectedLabels.Slice(row * k, k);
            var ad = actualDistances.Slice(row * k, k);
            var al = actualLabels.Slice(row * k, k);
            for (var j = 0; j < k; j++)
            {
                Close(ed[j], ad[j], relative, $"row {row} distance {j}");
                if (el[j] == al[j])
                {
                    continue;
                }

                // the last rank may tie with the (k+1)-th neighbour, which the expected list does not show: the
                // distances there were already found close
                var tied = Tied(ed, j, relative) || j == k - 1;
                Assert.True(tied, $"row {row} column {j}: expected id {el[j]}, got {al[j]} (distance {ed[j]}, not a tie)");
            }

            var compared = el[k - 1] == al[k - 1] ? k : k - 1;
            var expectedSet = el[..compared].ToArray().Order().ToArray();
            var actualSet = al[..compared].ToArray().Order().ToArray();
            if (!Tied(ed, compared - 1, relative))
            {
                Assert.Equal(expectedSet, actualSet);
            }
        }
    }

    private static bool Tied(ReadOnlySpan<float> distances, int j, double relative)
    {
        static bool Near(float a, float b, double rel) => Math.Abs(a - b) <= rel * Math.Max(1.0, Math.Abs(a));
        return (j > 0 && Near(distances[j], distances[j - 1], relative)) || (j + 1 < distances.Length && Near(distances[j], distances[j + 1], relative));
    }
}
