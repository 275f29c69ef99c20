namespace OrleansVectors.Inference.Faiss;

/// <summary>Process-wide facts and settings of the native faiss library.</summary>
public static class FaissLibrary
{
    /// <summary>The faiss version the native library was built against (1.7.3 on Debian 12).</summary>
    public static Version Version
    {
        get
        {
            NativeFaissMethods.Version(out var major, out var minor, out var patch).ThrowIfFailed();
            return new Version(major, minor, patch);
        }
    }

    /// <summary>
    /// The number of OpenMP threads every faiss call uses, process-wide. Setting 0 restores the default
    /// (<c>OMP_NUM_THREADS</c>, else the core count). Changing it while calls are running affects only later calls.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative or more than 4 × the core count (OpenMP would fail to start the threads).</exception>
    public static int ThreadCount
    {
        get
        {
            NativeFaissMethods.GetNumThreads(out var n).ThrowIfFailed();
            return n;
        }
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 4 * Environment.ProcessorCount);
            NativeFaissMethods.SetNumThreads(value).ThrowIfFailed();
        }
    }
}
