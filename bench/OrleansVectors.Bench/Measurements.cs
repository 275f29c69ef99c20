namespace OrleansVectors.Bench;

/// <summary>Timing and data shared by the benchmarks.</summary>
internal static class Measurements
{
    /// <summary>Seconds one call takes.</summary>
    public static double Time(Action action)
    {
        var start = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    /// <summary>Median seconds of <paramref name="reps"/> calls after one warm-up call.</summary>
    public static double Timed(int reps, Action action)
    {
        action();
        return Median(Enumerable.Range(0, reps).Select(_ => Time(action)));
    }

    /// <summary>Medians of <paramref name="reps"/> alternating runs of a baseline and a candidate (after one warm-up each), so drift hits both alike.</summary>
    public static (double Baseline, double Candidate) Interleaved(int reps, Action baseline, Action candidate)
    {
        baseline();
        candidate();
        var a = new double[reps];
        var b = new double[reps];
        for (var i = 0; i < reps; i++)
        {
            a[i] = Time(baseline);
            b[i] = Time(candidate);
        }

        return (Median(a), Median(b));
    }

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>Uniform values in [0, 1).</summary>
    public static float[] Uniform(Random random, int length)
    {
        var values = new float[length];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = random.NextSingle();
        }

        return values;
    }
}
