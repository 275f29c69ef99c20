using Microsoft.Extensions.Options;

namespace OrleansVectors.Grains.Hosting;

/// <summary>Silo-side settings of OrleansVectors (configuration section "OrleansVectors").</summary>
public sealed class OrleansVectorsOptions
{
    /// <summary>
    /// OpenMP threads per faiss call on this silo (default 1). A silo runs shards and queries in parallel on its
    /// faiss worker threads (one per core), so one OpenMP thread per call keeps the cores busy without
    /// oversubscribing them; measured on 2 cores, the default OpenMP team made single queries ~50% slower.
    /// 0 uses OMP_NUM_THREADS or the core count.
    /// </summary>
    public int FaissThreads { get; set; } = 1;

    /// <summary>
    /// Whether this silo advertises an accelerator, so shards prefer it: null (default) detects an NVIDIA device
    /// node (/dev/nvidiactl).
    /// </summary>
    public bool? Accelerator { get; set; }

    /// <summary>Whether this silo has an accelerator, after detection.</summary>
    public bool HasAccelerator => Accelerator ?? File.Exists("/dev/nvidiactl");
}

/// <summary>Validates <see cref="OrleansVectorsOptions"/> at start-up.</summary>
public sealed class OrleansVectorsOptionsValidator : IValidateOptions<OrleansVectorsOptions>
{
    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, OrleansVectorsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.FaissThreads < 0
            ? ValidateOptionsResult.Fail($"OrleansVectors:FaissThreads must be 0 (default) or positive; got {options.FaissThreads}.")
            : ValidateOptionsResult.Success;
    }
}
