namespace OrleansVectors.Inference.Engines;

/// <summary>What answers an index's exact searches.</summary>
public enum SearchEngineKind
{
    /// <summary>faiss's own search: every index type; the only engine for approximate types (IVF, HNSW, PQ).</summary>
    Faiss,

    /// <summary>
    /// The fused CPU engine (<c>ovf_flat.cpp</c>): Flat L2 and inner product on x86-64 with AVX2/FMA. Batches run as a
    /// blocked matrix product whose distance tiles feed a SIMD top-k filter while in cache; single queries as one
    /// streaming pass over the stored vectors.
    /// </summary>
    Cpu,

    /// <summary>The ILGPU engine: a copy of a Flat index's vectors in accelerator memory, searched by device kernels.</summary>
    Gpu,
}
