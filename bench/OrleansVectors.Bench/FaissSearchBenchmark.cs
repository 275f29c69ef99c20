using static OrleansVectors.Bench.Measurements;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace OrleansVectors.Bench;

/// <summary>
/// FaissIndex (Flat L2) search against Debian's python3-faiss on the same bytes and thread count, in one run:
/// a batch of queries on a large index (BLAS-bound), single queries on the same index, and single queries on
/// a small index (where the binding's per-call overhead dominates). Reports medians and ratios.
/// </summary>
internal static class FaissSearchBenchmark
{
    public static int Run(string[] args)
    {
        var options = new Options(args);
        var count = options.Int("base", 100_000);
        var d = options.Int("dim", 128);
        var queryCount = options.Int("queries", 1000);
        var k = options.Int("k", 10);
        var reps = Math.Max(1, options.Int("reps", 5));
        var threads = options.Int("threads", 0);
        FaissLibrary.ThreadCount = threads;
        threads = FaissLibrary.ThreadCount;
        const int smallCount = 1000;

        Console.WriteLine($"faiss {FaissLibrary.Version}, Flat L2, d={d}, {count:N0} base vectors, {queryCount:N0} queries, k={k}, {threads} OpenMP threads, median of {reps}");
        var random = new Random(42);
        var baseVectors = Uniform(random, count * d);
        var queries = Uniform(random, queryCount * d);
        var small = Uniform(random, smallCount * d);
        var singleCount = Math.Min(200, queryCount);

        using var index = FaissIndex.Create(d);
        index.Add(baseVectors);
        using var smallIndex = FaissIndex.Create(d);
        smallIndex.Add(small);
        var distances = new float[k];
        var labels = new long[k];

        var csharp = new Timings(
            Batch: Timed(reps, () => index.Search(queries, k)),
            Single: Timed(reps, () => SingleQueries(index, queries, singleCount, d, k)),
            SingleSmall: Timed(reps, () => SingleQueries(smallIndex, queries, queryCount, d, k)),
            SingleSmallBuffers: Timed(reps, () =>
            {
                for (var i = 0; i < queryCount; i++)
                {
                    smallIndex.Search(queries.AsSpan(i * d, d), k, distances, labels);
                }
            }));
        var python = RunPython(baseVectors, queries, small, d, k, threads, reps);

        var report = new Report("faiss-search", "measure", "python-faiss", "C# FaissIndex", "ratio (C# speed / python)", "target");
        report.Add("batch: queries/s", queryCount / python.Batch, queryCount / csharp.Batch, python.Batch / csharp.Batch, ">= 0.95");
        report.Add($"single on {count:N0}: µs/query", Micro(python.Single, singleCount), Micro(csharp.Single, singleCount), python.Single / csharp.Single, ">= 1");
        report.Add($"single on {smallCount:N0}: µs/query", Micro(python.SingleSmall, queryCount), Micro(csharp.SingleSmall, queryCount), python.SingleSmall / csharp.SingleSmall, "> 1");
        report.Add($"single on {smallCount:N0}, caller buffers: µs/query", Micro(python.SingleSmall, queryCount), Micro(csharp.SingleSmallBuffers, queryCount), python.SingleSmall / csharp.SingleSmallBuffers, "> 1");
        Console.WriteLine();
        var path = report.Write();
        Console.WriteLine($"\nwritten to {path}");
        return 0;
    }

    private static void SingleQueries(FaissIndex index, float[] queries, int count, int d, int k)
    {
        for (var i = 0; i < count; i++)
        {
            index.Search(queries.AsSpan(i * d, d), k);
        }
    }

    private static double Micro(double seconds, int count) => seconds * 1e6 / count;

    private static Timings RunPython(float[] baseVectors, float[] queries, float[] small, int d, int k, int threads, int reps)
    {
        var folder = Directory.CreateTempSubdirectory("ovf-bench-").FullName;
        try
        {
            string Write(string name, float[] values)
            {
                var path = Path.Combine(folder, name);
                File.WriteAllBytes(path, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
                return path;
            }

            var script = Path.Combine(AppContext.BaseDirectory, "python", "faiss_search_bench.py");
            string[] arguments = [script, Write("base.f32", baseVectors), Write("queries.f32", queries), Write("small.f32", small), $"{d}", $"{k}", $"{threads}", $"{reps}"];
            using var process = Process.Start(new ProcessStartInfo("/usr/bin/python3", arguments) { RedirectStandardOutput = true })
                ?? throw new InvalidOperationException("cannot start /usr/bin/python3");
            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"python3-faiss benchmark failed (exit {process.ExitCode}); run native/install-deps.sh");
            }

            using var json = JsonDocument.Parse(output);
            double MedianOf(string name) => Median(json.RootElement.GetProperty(name).EnumerateArray().Select(e => e.GetDouble()));
            return new Timings(MedianOf("batch"), MedianOf("single"), MedianOf("single_small"), double.NaN);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private sealed record Timings(double Batch, double Single, double SingleSmall, double SingleSmallBuffers);
}
