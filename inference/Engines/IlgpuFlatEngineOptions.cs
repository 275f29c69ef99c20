namespace OrleansVectors.Inference.Engines;

/// <summary>Settings of an <see cref="IlgpuFlatEngine"/>.</summary>
public sealed class IlgpuFlatEngineOptions
{
    /// <summary>The accelerator to run on. Default <see cref="IlgpuDevicePreference.Auto"/>.</summary>
    public IlgpuDevicePreference Device { get; init; } = IlgpuDevicePreference.Auto;

    /// <summary>
    /// Device bytes the engine may hold: stored vectors and ids (at their grown capacity) plus search scratch.
    /// 0 (the default) means 80% of the device's memory (of the memory available to the process for the CPU
    /// accelerator). Must not be negative.
    /// </summary>
    public long MemoryBudgetBytes { get; init; }

    /// <summary>
    /// Queries per device pass, at least 1 (default 1024). Larger batches need more scratch; the engine shrinks a
    /// batch to fit the budget. Batches alternate between two streams where the accelerator is a GPU.
    /// </summary>
    public int QueryBatch { get; init; } = 1024;

    /// <summary>Stored rows per distance tile; 0 chooses from the batch size. Tests set it to force several chunks.</summary>
    internal int ChunkRows { get; init; }

    /// <summary>Range hits fetched per device pass at most; 0 chooses from the budget. Tests set it to force several passes.</summary>
    internal long RangeResultRows { get; init; }

    /// <summary>Threads per group on the CPU accelerator (default 1). Tests raise it so the kernels' barriers and atomics are exercised.</summary>
    internal int CpuThreadsPerGroup { get; init; } = 1;
}
