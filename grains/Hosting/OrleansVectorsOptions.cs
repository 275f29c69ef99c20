using Microsoft.Extensions.Options;
using OrleansVectors.Inference.Engines;

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

    /// <summary>
    /// A shard asks its index for a snapshot once this many vectors were added to it since its last one (default
    /// 1,000,000); 0 turns the trigger off. A snapshot bounds how much log a restore replays.
    /// </summary>
    public long SnapshotEveryVectors { get; set; } = 1_000_000;

    /// <summary>An index that changed snapshots at least this often (default 10 minutes); zero turns the timer off.</summary>
    public TimeSpan SnapshotInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Snapshot versions kept per index, besides saved ones (default 3, at least 1).</summary>
    public int RetainSnapshots { get; set; } = 3;

    /// <summary>
    /// How long a call waits for a shard that is still restoring its snapshot and log before it fails with
    /// <c>ShardUnavailableException</c> (default 20 s: inside the client's 30 s response timeout).
    /// </summary>
    public TimeSpan RestoreWait { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// The memory an index's shards may take on one silo as soon as they are created (IVF quantizers, codebooks,
    /// transforms: estimated from the factory string), in bytes; a create past it is refused. Default: a quarter of
    /// the memory available to the process.
    /// </summary>
    public long CreateMemoryBudget { get; set; } = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 4;

    /// <summary>
    /// The folder whose files are the models indexes may name (<c>IndexSpec.Model</c> is a file name in it); null
    /// (the default in code; the silo host uses "models" under its data directory) serves no models.
    /// </summary>
    public string? ModelDirectory { get; set; }

    /// <summary>The largest model file loaded (default 2 GiB).</summary>
    public long MaxModelBytes { get; set; } = 2L << 30;

    /// <summary>How long loading a model may take before calls that need it fail (default 2 min; the load goes on).</summary>
    public TimeSpan ModelLoadTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// The key clients must send (<c>AddOrleansVectors(apiKey)</c> on the client) when set; unset (the default),
    /// any client that reaches a gateway is admitted. Replace <c>IClientAuthenticator</c> for other schemes.
    /// </summary>
    public string? ApiKey { get; set; }

    /// <summary>
    /// The engine answering exact searches on this silo's Flat shards. Auto (default) follows the silo's capability,
    /// the accelerator metadata placement uses: the GPU engine on a silo with an accelerator (the fused CPU engine
    /// where its CUDA device cannot be opened), the fused CPU engine elsewhere. Approximate types always use faiss.
    /// </summary>
    public SearchEnginePreference SearchEngine { get; set; } = SearchEnginePreference.Auto;

    /// <summary>
    /// The accelerator of the GPU engine (default Auto: a CUDA device). Cpu runs its kernels on ILGPU's CPU
    /// accelerator: slow, for checking the GPU path on a machine without one.
    /// </summary>
    public IlgpuDevicePreference GpuDevice { get; set; } = IlgpuDevicePreference.Auto;

    /// <summary>Device memory one shard's GPU engine may hold, in bytes; 0 (default) allows 80% of the device's memory.</summary>
    public long GpuMemoryBudgetBytes { get; set; }

    /// <summary>Whether this silo has an accelerator, after detection.</summary>
    public bool HasAccelerator => Accelerator ?? File.Exists("/dev/nvidiactl");

    /// <summary>The engine options this silo's shards search with (see <see cref="SearchEngine"/>).</summary>
    public SearchEngineOptions ToSearchEngineOptions() => new()
    {
        Preference = SearchEngine != SearchEnginePreference.Auto ? SearchEngine
            : HasAccelerator ? SearchEnginePreference.Gpu : SearchEnginePreference.Cpu,
        GpuDevice = GpuDevice,
        GpuMemoryBudgetBytes = GpuMemoryBudgetBytes,
    };
}

/// <summary>Validates <see cref="OrleansVectorsOptions"/> at start-up.</summary>
public sealed class OrleansVectorsOptionsValidator : IValidateOptions<OrleansVectorsOptions>
{
    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, OrleansVectorsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.FaissThreads < 0)
        {
            failures.Add($"OrleansVectors:FaissThreads must be 0 (default) or positive; got {options.FaissThreads}.");
        }

        if (options.SnapshotEveryVectors < 0)
        {
            failures.Add($"OrleansVectors:SnapshotEveryVectors must be 0 (off) or positive; got {options.SnapshotEveryVectors}.");
        }

        if (options.SnapshotInterval < TimeSpan.Zero || options.SnapshotInterval > TimeSpan.FromDays(7))
        {
            failures.Add($"OrleansVectors:SnapshotInterval must be between 0 (off) and 7 days; got {options.SnapshotInterval}.");
        }

        if (options.RetainSnapshots is < 1 or > 1000)
        {
            failures.Add($"OrleansVectors:RetainSnapshots must be between 1 and 1000; got {options.RetainSnapshots}.");
        }

        if (options.RestoreWait <= TimeSpan.Zero || options.RestoreWait > TimeSpan.FromHours(1))
        {
            failures.Add($"OrleansVectors:RestoreWait must be positive and at most an hour; got {options.RestoreWait}.");
        }

        if (options.MaxModelBytes < 1)
        {
            failures.Add($"OrleansVectors:MaxModelBytes must be positive; got {options.MaxModelBytes}.");
        }

        if (options.ModelLoadTimeout <= TimeSpan.Zero || options.ModelLoadTimeout > TimeSpan.FromHours(1))
        {
            failures.Add($"OrleansVectors:ModelLoadTimeout must be positive and at most an hour; got {options.ModelLoadTimeout}.");
        }

        if (!Enum.IsDefined(options.SearchEngine) || !Enum.IsDefined(options.GpuDevice))
        {
            failures.Add($"OrleansVectors:SearchEngine must be Auto, Faiss, Cpu or Gpu and OrleansVectors:GpuDevice Auto, Cuda or Cpu; got {options.SearchEngine} and {options.GpuDevice}.");
        }

        if (options.GpuMemoryBudgetBytes < 0)
        {
            failures.Add($"OrleansVectors:GpuMemoryBudgetBytes must be 0 (80% of the device) or positive; got {options.GpuMemoryBudgetBytes}.");
        }

        if (options.CreateMemoryBudget < 1 << 20)
        {
            failures.Add($"OrleansVectors:CreateMemoryBudget must be at least 1 MiB; got {options.CreateMemoryBudget}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
