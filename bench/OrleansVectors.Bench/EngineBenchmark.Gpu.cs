using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using OrleansVectors.Inference.Engines;

namespace OrleansVectors.Bench;

/// <summary>
/// The GPU engine's rows of the <c>engines</c> bench (<c>--gpu</c>): batch and single-query throughput on the device,
/// against the device's bandwidth (a device-to-device copy measured in the same run) and its FP32 peak
/// (<c>--peak-tflops</c>, from the device's data sheet: ILGPU does not report FP32 lanes per multiprocessor).
/// <c>--gpu-device cpu</c> runs the same kernels on ILGPU's CPU accelerator, which checks the path, not the speed.
/// </summary>
internal static partial class EngineBenchmark
{
    private static void MeasureGpu(
        Report report, Options options, int count, int d, int k, int batch, int singles, int reps, float[] vectors, float[] queries, double faissBatch, double faissSingle)
    {
        var device = Enum.Parse<IlgpuDevicePreference>(options.Text("gpu-device", "cuda"), ignoreCase: true);
        using var gpu = FaissIndex.Create(d);
        gpu.UseSearchEngine(new SearchEngineOptions { Preference = SearchEnginePreference.Gpu, GpuDevice = device });
        gpu.Add(vectors);
        if (gpu.SearchEngine != SearchEngineKind.Gpu)
        {
            throw new InvalidOperationException($"the GPU engine is not available: {gpu.SearchEngineDescription}");
        }

        var flops = 2.0 * batch * count * d;
        var bytes = (double)count * d * sizeof(float);
        var batchQueries = queries.AsMemory(0, batch * d);
        var batchSeconds = Measurements.Timed(reps, () => gpu.Search(batchQueries.Span, k));
        var singleSeconds = Measurements.Timed(reps, () => Singles(gpu, queries, d, k, singles)) / singles;
        var bandwidth = device == IlgpuDevicePreference.Cpu ? 0 : DeviceCopyBandwidth((long)bytes);
        var peakTflops = options.Int("peak-tflops", 0);
        Console.WriteLine($"  gpu ({gpu.SearchEngineDescription}): batch {flops / batchSeconds / 1e9:0.0} GFLOP/s"
            + (peakTflops > 0 ? $", {flops / batchSeconds / (peakTflops * 1e12):P1} of {peakTflops} TFLOP/s" : "")
            + $"; single {singleSeconds * 1e3:0.000} ms"
            + (bandwidth > 0 ? $", {bytes / singleSeconds / 1e9:0.0} GB/s of a {bandwidth / 1e9:0} GB/s device copy ({bytes / bandwidth / singleSeconds:P1})" : ""));
        report.Add(
            count, $"gpu ({(device == IlgpuDevicePreference.Cpu ? "kernels on the CPU accelerator" : "cuda")})", flops / batchSeconds / 1e9,
            peakTflops > 0 ? flops / batchSeconds / (peakTflops * 1e12) : double.NaN, faissBatch / batchSeconds, singleSeconds * 1e3,
            bandwidth > 0 ? bytes / bandwidth / singleSeconds : double.NaN, faissSingle / singleSeconds);
    }

    /// <summary>Bytes per second a device-to-device copy of <paramref name="bytes"/> moves (read plus write).</summary>
    private static double DeviceCopyBandwidth(long bytes)
    {
        using var context = Context.Create(builder => builder.Cuda());
        using var accelerator = context.GetCudaDevice(0).CreateAccelerator(context);
        using var source = accelerator.Allocate1D<float>(bytes / sizeof(float));
        using var target = accelerator.Allocate1D<float>(bytes / sizeof(float));
        source.MemSetToZero();
        source.CopyTo(target);
        accelerator.Synchronize();
        var stopwatch = Stopwatch.StartNew();
        const int Copies = 10;
        for (var i = 0; i < Copies; i++)
        {
            source.CopyTo(target);
        }

        accelerator.Synchronize();
        return 2.0 * bytes * Copies / stopwatch.Elapsed.TotalSeconds;
    }
}
