using OrleansVectors.Inference.Engines;

namespace OrleansVectors.Inference.Tests.Engines;

/// <summary>
/// The engines every exactness test runs on: the fused CPU engine, the GPU engine's kernels on ILGPU's CPU accelerator
/// (on every machine), and on a CUDA device where one exists.
/// </summary>
internal static class EngineCases
{
    public const string Cpu = "cpu";
    public const string GpuKernelsOnCpu = "gpu-kernels-on-cpu";
    public const string Cuda = "gpu-cuda";

    public static string[] All => IlgpuFlatEngine.IsCudaAvailable ? [Cpu, GpuKernelsOnCpu, Cuda] : [Cpu, GpuKernelsOnCpu];

    public static SearchEngineOptions Options(string engine) => engine switch
    {
        Cpu => new SearchEngineOptions { Preference = SearchEnginePreference.Cpu },
        GpuKernelsOnCpu => new SearchEngineOptions { Preference = SearchEnginePreference.Gpu, GpuDevice = IlgpuDevicePreference.Cpu },
        Cuda => new SearchEngineOptions { Preference = SearchEnginePreference.Gpu, GpuDevice = IlgpuDevicePreference.Cuda },
        _ => throw new ArgumentOutOfRangeException(nameof(engine), engine, "unknown engine case"),
    };

    public static SearchEngineKind Kind(string engine) => engine switch
    {
        Cpu => SearchEngineKind.Cpu,
        GpuKernelsOnCpu or Cuda => SearchEngineKind.Gpu,
        _ => throw new ArgumentOutOfRangeException(nameof(engine), engine, "unknown engine case"),
    };
}
