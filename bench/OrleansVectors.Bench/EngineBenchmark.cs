using System.Runtime.InteropServices;
using OrleansVectors.Inference.Engines;

namespace OrleansVectors.Bench;

/// <summary>
/// The exact-search engines against the machine's bounds and against faiss, all measured in one run on the same data:
/// <list type="bullet">
/// <item>the sgemm peak: OpenBLAS (the library faiss links) on 2048³, the ceiling of any GEMM-shaped search;</item>
/// <item>a batch of 1,000 queries: the fused CPU engine's GFLOP/s (2·n·N·d per batch) as a share of that peak, and its
/// throughput against faiss 1.7.3's on a twin index;</item>
/// <item>single queries: the fused engine's time against one streaming read of the index's stored vectors with the
/// same threads (<see cref="FaissIndex.ReadAllStoredVectors"/>: the memory bound of a single query), and against faiss;</item>
/// <item>with <c>--gpu</c> and a CUDA device: the GPU engine's batch and single-query throughput against the device's
/// bandwidth (a device-to-device copy measured in the same run) and FP32 peak (<c>--peak-tflops</c>).</item>
/// </list>
/// </summary>
internal static partial class EngineBenchmark
{
    public static int Run(string[] args)
    {
        var options = new Options(args);
        var d = options.Int("dim", 128);
        var k = options.Int("k", 10);
        var batch = options.Int("queries", 1000);
        var reps = Math.Max(3, options.Int("reps", 5));
        var singles = Math.Max(20, options.Int("singles", 200));
        var threads = options.Int("threads", 0);
        var sizes = args.Contains("--sizes") ? [options.Int("sizes", 100_000)] : new[] { 100_000, 1_000_000 };
        FaissLibrary.ThreadCount = threads;
        var team = FaissLibrary.ThreadCount;

        var peak = SgemmPeakGflops(reps);
        Console.WriteLine($"exact search engines: Flat L2, d={d}, k={k}, batch {batch}, {singles} single queries, {team} threads");
        Console.WriteLine($"  sgemm peak (OpenBLAS, 2048³, median of {reps}): {peak:0.0} GFLOP/s");
        var report = new Report(
            "engines", "vectors", "engine", "batch GFLOP/s", "share of sgemm peak", "batch vs faiss", "single ms", "single / stream read", "single vs faiss");
        var random = new Random(3);
        foreach (var count in sizes)
        {
            var vectors = Measurements.Uniform(random, count * d);
            var queries = Measurements.Uniform(random, Math.Max(batch, singles) * d);
            using var faiss = FaissIndex.Create(d);
            faiss.UseSearchEngine(SearchEngineOptions.FaissOnly);
            faiss.Add(vectors);
            using var fused = FaissIndex.Create(d);
            fused.UseSearchEngine(new SearchEngineOptions { Preference = SearchEnginePreference.Cpu });
            fused.Add(vectors);
            if (fused.SearchEngine != SearchEngineKind.Cpu)
            {
                throw new InvalidOperationException($"the fused engine is not available here: {fused.SearchEngineDescription}");
            }

            var flops = 2.0 * batch * count * d;
            var batchQueries = queries.AsMemory(0, batch * d);
            var (faissBatch, fusedBatch) = Measurements.Interleaved(reps, () => faiss.Search(batchQueries.Span, k), () => fused.Search(batchQueries.Span, k));
            var streamRead = Measurements.Timed(reps, () => fused.ReadAllStoredVectors());
            var (faissSingle, fusedSingle) = Measurements.Interleaved(
                reps, () => Singles(faiss, queries, d, k, singles), () => Singles(fused, queries, d, k, singles));
            faissSingle /= singles;
            fusedSingle /= singles;
            report.Add(count, "faiss 1.7.3", flops / faissBatch / 1e9, flops / faissBatch / 1e9 / peak, 1.0, faissSingle * 1e3, faissSingle / streamRead, 1.0);
            report.Add(count, "fused cpu", flops / fusedBatch / 1e9, flops / fusedBatch / 1e9 / peak, faissBatch / fusedBatch, fusedSingle * 1e3, fusedSingle / streamRead, faissSingle / fusedSingle);
            Console.WriteLine($"  {count:N0} vectors: stream read {streamRead * 1e3:0.000} ms ({count * (double)d * sizeof(float) / streamRead / 1e9:0.0} GB/s)");
            if (args.Contains("--gpu"))
            {
                MeasureGpu(report, options, count, d, k, batch, singles, reps, vectors, queries, faissBatch, faissSingle);
            }
        }

        Console.WriteLine();
        Console.WriteLine($"\nwritten to {report.Write()}");
        Console.WriteLine("targets: fused batch >= 0.6 of the sgemm peak and >= 2x faiss; fused single <= 1.25x one streaming read");
        return 0;
    }

    private static void Singles(FaissIndex index, float[] queries, int d, int k, int singles)
    {
        for (var i = 0; i < singles; i++)
        {
            index.Search(queries.AsSpan(i * d, d), k);
        }
    }

    private static double SgemmPeakGflops(int reps)
    {
        const int n = 2048;
        var a = Measurements.Uniform(new Random(1), n * n);
        var b = Measurements.Uniform(new Random(2), n * n);
        var c = new float[n * n];
        var seconds = Measurements.Timed(reps, () => Sgemm(a, b, c, n));
        return 2.0 * n * n * n / seconds / 1e9;
    }

    private static unsafe void Sgemm(float[] a, float[] b, float[] c, int n)
    {
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        {
            CblasSgemm(RowMajor, NoTrans, NoTrans, n, n, n, 1, pa, n, pb, n, 0, pc, n);
        }
    }

    private const int RowMajor = 101;
    private const int NoTrans = 111;

    // the OpenBLAS faiss links (Debian: libopenblas0-pthread), called directly for the peak
    [LibraryImport("libopenblas.so.0", EntryPoint = "cblas_sgemm")]
    private static unsafe partial void CblasSgemm(
        int order, int transA, int transB, int m, int n, int k, float alpha, float* a, int lda, float* b, int ldb, float beta, float* c, int ldc);
}
