using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using OrleansVectors.Inference.Faiss;

namespace OrleansVectors.Bench;

/// <summary>
/// The main job until the cluster exists: indexes the handwritten-digits data set (1797 images, 64 pixels)
/// with several faiss index types and reports what a user wants to know — sizes, timings, how well the
/// nearest neighbour classifies held-out digits, how close the approximate indexes come to the exact one,
/// what a threshold match finds, and how k-means clusters relate to the true digits.
/// </summary>
internal static class DigitsDemo
{
    private const int D = 64;

    public static int Run(string[] args)
    {
        var options = new Options(args);
        var k = options.Int("k", 10);
        var (vectors, labels) = Load(Path.Combine(AppContext.BaseDirectory, "data", "digits.csv.gz"));
        var n = labels.Length;

        // every fifth digit is held out as a query; the rest is the reference set
        var queryRows = Enumerable.Range(0, n).Where(i => i % 5 == 0).ToArray();
        var referenceRows = Enumerable.Range(0, n).Where(i => i % 5 != 0).ToArray();
        var queries = Gather(vectors, queryRows);
        var reference = Gather(vectors, referenceRows);
        var referenceLabels = referenceRows.Select(i => labels[i]).ToArray();
        var queryLabels = queryRows.Select(i => labels[i]).ToArray();

        Console.WriteLine($"OrleansVectors — faiss {FaissLibrary.Version} in-process, {FaissLibrary.ThreadCount} threads");
        Console.WriteLine($"digits: {n} images of 8×8 pixels (d={D}); reference set {referenceRows.Length}, held-out queries {queryRows.Length}, k={k}\n");

        using var flat = Build("Flat", FaissMetric.L2, reference);
        var exact = flat.Search(queries, k);
        var report = new Report("digits", "index", "build ms", "search ms", "precision@1", $"recall@{k} vs Flat", "bytes");
        report.Add("Flat (L2, exact)", Elapsed(flat), Time(() => flat.Search(queries, k)), PrecisionAt1(exact, referenceLabels, queryLabels), 1.0, flat.Serialize().Length);

        foreach (var (factory, metric, normalize) in new[]
        {
            ("Flat", FaissMetric.InnerProduct, true),
            ("IVF16,Flat", FaissMetric.L2, false),
            ("HNSW16", FaissMetric.L2, false),
            ("IVF16,SQ8", FaissMetric.L2, false),
        })
        {
            var data = normalize ? Normalized(reference) : reference;
            var q = normalize ? Normalized(queries) : queries;
            using var index = Build(factory, metric, data);
            var parameters = index.SupportsNProbe ? new FaissSearchParameters { NProbe = 4 } : null;
            var result = index.Search(q, k, parameters);
            var label = $"{factory} ({(metric == FaissMetric.L2 ? "L2" : "cosine")}{(parameters is null ? "" : ", nprobe 4")})";
            report.Add(label, Elapsed(index), Time(() => index.Search(q, k, parameters)), PrecisionAt1(result, referenceLabels, queryLabels),
                normalize ? "—" : Recall(exact, result, k), index.Serialize().Length);
        }

        report.Write();

        Console.WriteLine($"\nFlat against an independent exact search (double precision): {AgreementWithBruteForce(reference, queries, exact, k):P1} of queries have a correct top-{k}");

        // threshold matches: every reference digit within a squared distance of each query
        const float radius = 400f;
        var matches = flat.RangeSearch(queries, radius);
        var sameDigit = 0L;
        for (var q = 0; q < matches.QueryCount; q++)
        {
            foreach (var id in matches.LabelsOf(q))
            {
                sameDigit += referenceLabels[id] == queryLabels[q] ? 1 : 0;
            }
        }

        var withMatch = Enumerable.Range(0, matches.QueryCount).Count(q => !matches.LabelsOf(q).IsEmpty);
        Console.WriteLine($"threshold matches (squared L2 < {radius}): {matches.Labels.Length} pairs, {withMatch} of {matches.QueryCount} queries matched, {(double)sameDigit / Math.Max(1, matches.Labels.Length):P1} of pairs are the same digit");

        // k-means over all digits, compared with the true digits
        var stopwatch = Stopwatch.StartNew();
        var clusters = FaissClustering.KMeans(vectors, D, 10, new FaissKMeansOptions { Iterations = 25, Redo = 3, Seed = 1234 });
        var purity = Purity(clusters.Assignments, labels, 10);
        Console.WriteLine($"k-means (k=10, 3 runs): {stopwatch.ElapsedMilliseconds} ms, objective {clusters.Objective[^1]:N0}, cluster purity against the true digits {purity:P1}");

        // persistence round trip
        var file = Path.Combine(Path.GetTempPath(), $"ovf-digits-{Environment.ProcessId}.faiss");
        flat.Save(file);
        using var loaded = FaissIndex.Load(file);
        var same = loaded.Search(queries, k).Labels.AsSpan().SequenceEqual(exact.Labels);
        Console.WriteLine($"saved and reloaded the Flat index ({new FileInfo(file).Length:N0} bytes): results {(same ? "identical" : "DIFFERENT")}");
        File.Delete(file);
        return same ? 0 : 1;
    }

    private static readonly Dictionary<FaissIndex, double> BuildTimes = [];

    private static FaissIndex Build(string factory, FaissMetric metric, float[] data)
    {
        var stopwatch = Stopwatch.StartNew();
        var index = FaissIndex.Create(D, factory, metric);
        index.Train(data);
        index.Add(data);
        BuildTimes[index] = stopwatch.Elapsed.TotalMilliseconds;
        return index;
    }

    private static double Elapsed(FaissIndex index) => BuildTimes[index];

    /// <summary>Median of five timed runs after a warm-up, in milliseconds.</summary>
    private static double Time(Action action)
    {
        action();
        var times = new double[5];
        for (var i = 0; i < times.Length; i++)
        {
            var stopwatch = Stopwatch.StartNew();
            action();
            times[i] = stopwatch.Elapsed.TotalMilliseconds;
        }

        Array.Sort(times);
        return times[2];
    }

    private static double PrecisionAt1(FaissKnnResult result, int[] referenceLabels, int[] queryLabels) =>
        Enumerable.Range(0, result.QueryCount).Count(q => referenceLabels[result.LabelsOf(q)[0]] == queryLabels[q]) / (double)result.QueryCount;

    private static double Recall(FaissKnnResult exact, FaissKnnResult approximate, int k)
    {
        var found = 0;
        for (var q = 0; q < exact.QueryCount; q++)
        {
            var truth = exact.LabelsOf(q).ToArray();
            foreach (var id in approximate.LabelsOf(q))
            {
                found += Array.IndexOf(truth, id) >= 0 ? 1 : 0;
            }
        }

        return found / (double)(exact.QueryCount * k);
    }

    /// <summary>
    /// Fraction of queries whose result is a correct top-k by an independent exact search in double precision:
    /// the reported distances are the k smallest true distances, and every reported id is at its reported
    /// distance. (Pixel data has many exact ties, so the order among equal distances is free.)
    /// </summary>
    private static double AgreementWithBruteForce(float[] reference, float[] queries, FaissKnnResult result, int k)
    {
        var correct = 0;
        var count = reference.Length / D;
        var trueDistances = new double[count];
        for (var q = 0; q < result.QueryCount; q++)
        {
            var query = queries.AsSpan(q * D, D);
            for (var i = 0; i < count; i++)
            {
                double sum = 0;
                for (var j = 0; j < D; j++)
                {
                    var diff = query[j] - (double)reference[(i * D) + j];
                    sum += diff * diff;
                }

                trueDistances[i] = sum;
            }

            var smallest = trueDistances.Order().Take(k).ToArray();
            var reported = result.DistancesOf(q).ToArray();
            var ids = result.LabelsOf(q).ToArray();
            var ok = Enumerable.Range(0, k).All(j =>
                Math.Abs(reported[j] - smallest[j]) <= 1e-4 * Math.Max(1, smallest[j])
                && Math.Abs(trueDistances[ids[j]] - reported[j]) <= 1e-4 * Math.Max(1, reported[j]));
            correct += ok ? 1 : 0;
        }

        return correct / (double)result.QueryCount;
    }

    private static double Purity(long[] assignments, int[] labels, int k)
    {
        var majority = 0;
        for (var c = 0; c < k; c++)
        {
            var members = labels.Where((_, i) => assignments[i] == c).ToArray();
            majority += members.Length == 0 ? 0 : members.GroupBy(l => l).Max(g => g.Count());
        }

        return majority / (double)labels.Length;
    }

    private static float[] Gather(float[] vectors, int[] rows)
    {
        var result = new float[rows.Length * D];
        for (var i = 0; i < rows.Length; i++)
        {
            vectors.AsSpan(rows[i] * D, D).CopyTo(result.AsSpan(i * D));
        }

        return result;
    }

    private static float[] Normalized(float[] vectors)
    {
        var result = (float[])vectors.Clone();
        for (var offset = 0; offset < result.Length; offset += D)
        {
            var row = result.AsSpan(offset, D);
            var norm = System.Numerics.Tensors.TensorPrimitives.Norm(row);
            if (norm > 0)
            {
                System.Numerics.Tensors.TensorPrimitives.Divide(row, norm, row);
            }
        }

        return result;
    }

    private static (float[] Vectors, int[] Labels) Load(string path)
    {
        using var reader = new StreamReader(new GZipStream(File.OpenRead(path), CompressionMode.Decompress));
        var vectors = new List<float>();
        var labels = new List<int>();
        while (reader.ReadLine() is { Length: > 0 } line)
        {
            var cells = line.Split(',');
            if (cells.Length != D + 1)
            {
                throw new InvalidDataException($"{path}: expected {D + 1} columns, found {cells.Length}");
            }

            vectors.AddRange(cells[..D].Select(c => float.Parse(c, CultureInfo.InvariantCulture)));
            labels.Add((int)float.Parse(cells[D], CultureInfo.InvariantCulture));
        }

        return ([.. vectors], [.. labels]);
    }
}
