namespace OrleansVectors.Inference.Engines;

/// <summary>The accelerator the GPU engine runs its kernels on.</summary>
public enum IlgpuDevicePreference
{
    /// <summary>A CUDA device when one exists; none otherwise.</summary>
    Auto,

    /// <summary>A CUDA device; creating the engine fails without one.</summary>
    Cuda,

    /// <summary>ILGPU's CPU accelerator: the same kernels, run on CPU threads (slow; for tests).</summary>
    Cpu,
}
