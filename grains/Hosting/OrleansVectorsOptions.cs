using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using OrleansVectors.Inference.Engines;

namespace OrleansVectors.Grains.Hosting;

/// <summary>
/// Silo-side settings of OrleansVectors (configuration section <see cref="SectionName"/>; environment variables
/// OrleansVectors__FaissThreads, …), validated when the silo starts by <see cref="OrleansVectorsOptionsValidator"/>.
/// </summary>
public sealed class OrleansVectorsOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "OrleansVectors";

    /// <summary>
    /// OpenMP threads per faiss call on this silo (default 1). A silo runs shards and queries in parallel on its
    /// faiss worker threads (one per core), so one OpenMP thread per call keeps the cores busy without
    /// oversubscribing them; measured on 2 cores, the default OpenMP team made single queries ~50% slower.
    /// 0 uses OMP_NUM_THREADS or the core count.
    /// </summary>
    [Range(0, int.MaxValue)]
    public int FaissThreads { get; set; } = 1;

    /// <summary>
    /// Whether this silo advertises an accelerator, so shards prefer it: null (default) takes what
    /// <see cref="IMachineCapabilities"/> finds on this machine (an NVIDIA device node), filled in when the options are created.
    /// </summary>
    public bool? Accelerator { get; set; }

    /// <summary>
    /// A shard asks its index for a snapshot once this many vectors were added to it since its last one (default
    /// 1,000,000); 0 turns the trigger off. A snapshot bounds how much log a restore replays.
    /// </summary>
    [Range(typeof(long), "0", "9223372036854775807")]
    public long SnapshotEveryVectors { get; set; } = 1_000_000;

    /// <summary>An index that changed snapshots at least this often (default 10 minutes); zero turns the timer off.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "7.00:00:00")]
    public TimeSpan SnapshotInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Snapshot versions kept per index, besides saved ones (default 3, at least 1).</summary>
    [Range(1, 1000)]
    public int RetainSnapshots { get; set; } = 3;

    /// <summary>
    /// How long a call waits for a shard that is still restoring its snapshot and log before it fails with
    /// <c>ShardUnavailableException</c> (default 20 s: inside the client's 30 s response timeout).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00", MinimumIsExclusive = true)]
    public TimeSpan RestoreWait { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// The memory an index's shards may take on one silo as soon as they are created (IVF quantizers, codebooks,
    /// transforms: estimated from the factory string), in bytes; a create past it is refused. Default: a quarter of
    /// the memory available to the process.
    /// </summary>
    [Range(typeof(long), "1048576", "9223372036854775807")]
    public long CreateMemoryBudget { get; set; } = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 4;

    /// <summary>
    /// The folder whose files are the models indexes may name (<c>IndexSpec.Model</c> is a file name in it); null
    /// (the default in code; the silo host uses "models" under its data directory) serves no models.
    /// </summary>
    public string? ModelDirectory { get; set; }

    /// <summary>The largest model file loaded (default 2 GiB).</summary>
    [Range(typeof(long), "1", "9223372036854775807")]
    public long MaxModelBytes { get; set; } = 2L << 30;

    /// <summary>How long loading a model may take before calls that need it fail (default 2 min; the load goes on).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00", MinimumIsExclusive = true)]
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
    [EnumDataType(typeof(SearchEnginePreference), ErrorMessage = "must be Auto, Faiss, Cpu or Gpu")]
    public SearchEnginePreference SearchEngine { get; set; } = SearchEnginePreference.Auto;

    /// <summary>
    /// The accelerator of the GPU engine (default Auto: a CUDA device). Cpu runs its kernels on ILGPU's CPU
    /// accelerator: slow, for checking the GPU path on a machine without one.
    /// </summary>
    [EnumDataType(typeof(IlgpuDevicePreference), ErrorMessage = "must be Auto, Cuda or Cpu")]
    public IlgpuDevicePreference GpuDevice { get; set; } = IlgpuDevicePreference.Auto;

    /// <summary>Device memory one shard's GPU engine may hold, in bytes; 0 (default) allows 80% of the device's memory.</summary>
    [Range(typeof(long), "0", "9223372036854775807")]
    public long GpuMemoryBudgetBytes { get; set; }

    /// <summary>The engine options this silo's shards search with (see <see cref="SearchEngine"/>).</summary>
    public SearchEngineOptions ToSearchEngineOptions() => new()
    {
        Preference = SearchEngine != SearchEnginePreference.Auto ? SearchEngine
            : Accelerator == true ? SearchEnginePreference.Gpu : SearchEnginePreference.Cpu,
        GpuDevice = GpuDevice,
        GpuMemoryBudgetBytes = GpuMemoryBudgetBytes,
    };
}

/// <summary>Validates <see cref="OrleansVectorsOptions"/> when the silo starts (generated from its DataAnnotations rules).</summary>
/// <remarks>
/// The generator validates [Range] with its own copy of the attribute, which ignores ErrorMessage: a range failure reads
/// "The field Type.Setting must be between min and max.", so range rules carry no message of their own.
/// </remarks>
[OptionsValidator]
public sealed partial class OrleansVectorsOptionsValidator : IValidateOptions<OrleansVectorsOptions>;
