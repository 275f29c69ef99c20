using OrleansVectors.Inference.Faiss;

namespace OrleansVectors.Inference.Engines;

/// <summary>
/// The one place that decides which engine answers an index's exact searches. Only Flat indexes (alone or under an
/// id map) have a choice: approximate types stay on faiss. In order of preference, where allowed:
/// <list type="number">
/// <item>the GPU engine, when preferred and its accelerator opens: a CUDA device, or ILGPU's CPU accelerator when
/// <see cref="SearchEngineOptions.GpuDevice"/> asks for it. Only on request: a device copy pays off for a shard that
/// lives long and holds many vectors, not for the small, short-lived indexes a process makes in passing (k-means
/// centroids, a <c>FaissKnn</c> reference set); silos with an accelerator request it for their shards;</item>
/// <item>the fused CPU engine, unless faiss is preferred: measured faster than faiss at every batch size and k on
/// x86-64 with AVX2/FMA (bench <c>engines</c>);</item>
/// <item>faiss.</item>
/// </list>
/// </summary>
internal static class SearchEngineSelector
{
    /// <summary>
    /// The engine for an index, or null for faiss, with the reason when the preferred engine is not the one chosen. A
    /// fused engine already in use is kept (it holds only the norms, whatever the options); the caller disposes
    /// <paramref name="current"/> only when something else comes back.
    /// </summary>
    public static IFlatSearchEngine? Choose(
        FaissIndexHandle index, int dimension, FaissMetric metric, long count, bool isExactFlat, IFlatSearchEngine? current, SearchEngineOptions options, out string? note)
    {
        note = null;
        if (options.Preference == SearchEnginePreference.Faiss)
        {
            return null;
        }

        if (!isExactFlat)
        {
            // approximate types are faiss's by nature; only say so when another engine was asked for
            note = options.Preference == SearchEnginePreference.Auto ? null : $"the {options.Preference.ToString().ToLowerInvariant()} engine answers Flat indexes only";
            return null;
        }

        if (options.Preference == SearchEnginePreference.Gpu)
        {
            var gpu = GpuSearchEngine.TryCreate(index, dimension, metric, count, options, out note);
            if (gpu is not null)
            {
                return gpu;
            }
        }

        if (current is FusedCpuSearchEngine fused)
        {
            return fused;
        }

        var cpu = FusedCpuSearchEngine.TryCreate(index, count, out var whyNotCpu);
        note ??= cpu is null ? whyNotCpu : null;
        return cpu;
    }
}
