namespace OrleansVectors.Inference.Engines;

/// <summary>Which engine a Flat index prefers; see <see cref="SearchEngineSelector"/> for how the choice is made.</summary>
public enum SearchEnginePreference
{
    /// <summary>
    /// The fused CPU engine where the CPU has AVX2/FMA, else faiss. The GPU engine is used only when preferred (a silo
    /// with an accelerator prefers it for its shards: <c>OrleansVectors:SearchEngine</c>).
    /// </summary>
    Auto,

    /// <summary>faiss's own search.</summary>
    Faiss,

    /// <summary>The fused CPU engine (falls back to faiss where the CPU lacks AVX2/FMA).</summary>
    Cpu,

    /// <summary>The GPU engine on <see cref="SearchEngineOptions.GpuDevice"/> (falls back to the CPU engines where none exists).</summary>
    Gpu,
}

/// <summary>How an index picks its exact-search engine. Immutable; <see cref="Default"/> is what a new index uses.</summary>
public sealed record SearchEngineOptions
{
    /// <summary>Auto: the fused CPU engine for Flat indexes, faiss for the rest.</summary>
    public static SearchEngineOptions Default { get; } = new();

    /// <summary>faiss's own search for every index (the baseline benchmarks compare against).</summary>
    public static SearchEngineOptions FaissOnly { get; } = new() { Preference = SearchEnginePreference.Faiss };

    /// <summary>The engine to prefer (default <see cref="SearchEnginePreference.Auto"/>).</summary>
    public SearchEnginePreference Preference { get; init; } = SearchEnginePreference.Auto;

    /// <summary>
    /// The accelerator the GPU engine runs on (default <see cref="IlgpuDevicePreference.Auto"/>: a CUDA device).
    /// <see cref="IlgpuDevicePreference.Cpu"/> runs the same kernels on ILGPU's CPU accelerator: slow, for tests and for
    /// checking the GPU path on machines without one.
    /// </summary>
    public IlgpuDevicePreference GpuDevice { get; init; } = IlgpuDevicePreference.Auto;

    /// <summary>
    /// Device memory one index's GPU engine may hold, in bytes; 0 (default) allows 80% of the device's memory. An add
    /// that would pass it fails with DeviceMemoryBudgetExceededException and changes nothing.
    /// </summary>
    public long GpuMemoryBudgetBytes { get; init; }
}
