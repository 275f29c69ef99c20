namespace OrleansVectors.Inference.Tests.Faiss;

/// <summary>
/// The C# binding against Debian's python3-faiss on the same inputs: same ids (ties aside), same distances
/// within float rounding.
/// </summary>
[Collection(SerialFaissThreadCount.Name)]
public sealed class FaissParityTests : IDisposable
{
    private const int D = 32;
    private const double Rel = 1e-4;
    private readonly PythonFaiss _python = new();

    [Theory]
    [InlineData("Flat", FaissMetric.L2, 10)]
    [InlineData("Flat", FaissMetric.InnerProduct, 10)]
    [InlineData("Flat", FaissMetric.L2, 100)]
    [InlineData("IDMap,Flat", FaissMetric.L2, 5)]
    public void Exact_search_matches_python_faiss(string factory, FaissMetric metric, int k)
    {
        var baseVectors = TestData.Uniform(3000, D, seed: 1);
        var queries = TestData.Uniform(64, D, seed: 2);
        var ids = IdsFor(factory, 3000);
        using var index = FaissIndex.Create(D, factory, metric);
        Fill(index, baseVectors, ids);

        var expected = PythonSearch(new { op = "search", factory, metric = metric.ToString(), d = D, k }, baseVectors, queries, ids);
        var actual = index.Search(queries, k);

        ParityAssert.SameNeighbours(expected.Distances, expected.Labels, actual.Distances, actual.Labels, k, Rel);
    }

    [Fact]
    public void Ivf_search_with_a_fixed_nprobe_matches_python_faiss()
    {
        var baseVectors = TestData.Blobs(4000, D, clusters: 40, seed: 3);
        var queries = TestData.Blobs(50, D, clusters: 40, seed: 4);
        using var index = FaissIndex.Create(D, "IVF32,Flat");
        index.Train(baseVectors);
        index.Add(baseVectors);

        var expected = PythonSearch(
            new { op = "search", factory = "IVF32,Flat", metric = "L2", d = D, k = 10, nprobe = 4, train = _python.Write<float>(baseVectors) },
            baseVectors, queries);
        var actual = index.Search(queries, 10, new FaissSearchParameters { NProbe = 4 });
        var allLists = index.Search(queries, 10, new FaissSearchParameters { NProbe = 32 });

        ParityAssert.SameNeighbours(expected.Distances, expected.Labels, actual.Distances, actual.Labels, 10, Rel);
        Assert.NotEqual(actual.Labels, allLists.Labels); // the per-call nprobe took effect
    }

    [Fact]
    public void Hnsw_search_with_a_fixed_ef_search_matches_python_faiss()
    {
        // HNSW construction is only deterministic single-threaded, on both sides.
        var previous = FaissLibrary.ThreadCount;
        FaissLibrary.ThreadCount = 1;
        try
        {
            var baseVectors = TestData.Uniform(2000, D, seed: 5);
            var queries = TestData.Uniform(50, D, seed: 6);
            using var index = FaissIndex.Create(D, "HNSW16");
            index.Add(baseVectors);

            var expected = PythonSearch(new { op = "search", factory = "HNSW16", metric = "L2", d = D, k = 10, efSearch = 24, threads = 1 }, baseVectors, queries);
            var withDefault = index.Search(queries, 10);
            var actual = index.Search(queries, 10, new FaissSearchParameters { EfSearch = 24 });

            ParityAssert.SameNeighbours(expected.Distances, expected.Labels, actual.Distances, actual.Labels, 10, Rel);
            Assert.Equal(withDefault.Labels, index.Search(queries, 10).Labels); // the index's own efSearch is back
        }
        finally
        {
            FaissLibrary.ThreadCount = previous;
        }
    }

    [Theory]
    [InlineData(FaissMetric.L2, 9.5f)]
    [InlineData(FaissMetric.InnerProduct, 2.5f)]
    public void Range_search_matches_python_faiss(FaissMetric metric, float radius)
    {
        var baseVectors = TestData.Uniform(2000, D, seed: 7);
        var queries = TestData.Uniform(40, D, seed: 8);
        using var index = FaissIndex.Create(D, "Flat", metric);
        index.Add(baseVectors);

        var offsets = _python.NewPath();
        var distances = _python.NewPath();
        var labels = _python.NewPath();
        _python.Run(new
        {
            op = "range_search", factory = "Flat", metric = metric.ToString(), d = D, radius,
            @base = _python.Write<float>(baseVectors), queries = _python.Write<float>(queries),
            out_offsets = offsets, out_distances = distances, out_labels = labels,
        });
        var expectedOffsets = PythonFaiss.Read<long>(offsets);
        var expectedDistances = PythonFaiss.Read<float>(distances);
        var expectedLabels = PythonFaiss.Read<long>(labels);

        var actual = index.RangeSearch(queries, radius);

        Assert.Equal(expectedOffsets, actual.Offsets);
        Assert.True(actual.Labels.Length > 40, "the radius should select a fair number of neighbours");
        for (var q = 0; q < actual.QueryCount; q++)
        {
            // faiss lists a query's results in index order, the fused engine best first: compare them by label
            var range = (int)expectedOffsets[q]..(int)expectedOffsets[q + 1];
            var expectedByLabel = expectedLabels[range].Zip(expectedDistances[range]).OrderBy(p => p.First).ToArray();
            var actualByLabel = actual.LabelsOf(q).ToArray().Zip(actual.DistancesOf(q).ToArray()).OrderBy(p => p.First).ToArray();
            Assert.Equal(expectedByLabel.Select(p => p.First), actualByLabel.Select(p => p.First));
            ParityAssert.AllClose(expectedByLabel.Select(p => p.Second).ToArray(), actualByLabel.Select(p => p.Second).ToArray(), Rel, $"query {q}");
        }
    }

    [Theory]
    [InlineData("Flat")]
    [InlineData("IDMap,Flat")]
    public void Remove_matches_python_faiss(string factory)
    {
        var baseVectors = TestData.Uniform(1000, D, seed: 9);
        var queries = TestData.Uniform(30, D, seed: 10);
        var ids = IdsFor(factory, 1000);
        long[] remove = [.. new long[] { 0, 5, 17, 500, 999 }.Select(p => ids?[p] ?? p), 12345];
        using var index = FaissIndex.Create(D, factory);
        Fill(index, baseVectors, ids);

        var removedPath = _python.NewPath();
        var expected = PythonSearch(
            new { op = "remove", factory, metric = "L2", d = D, k = 10, remove = _python.Write<long>(remove), out_removed = removedPath },
            baseVectors, queries, ids);
        var removed = index.Remove(remove);
        var actual = index.Search(queries, 10);

        Assert.Equal(File.ReadAllText(removedPath), $"{removed} {index.Count}");
        Assert.Equal(5, removed);
        ParityAssert.SameNeighbours(expected.Distances, expected.Labels, actual.Distances, actual.Labels, 10, Rel);
    }

    [Theory]
    [InlineData("Flat", new long[] { 0, 1, 42, 199 })]
    [InlineData("IDMap2,Flat", new long[] { 1000, 1001, 1042, 1199 })]
    public void Reconstruct_matches_python_faiss(string factory, long[] keys)
    {
        var baseVectors = TestData.Uniform(200, D, seed: 11);
        using var index = FaissIndex.Create(D, factory);
        long[]? ids = factory.StartsWith("IDMap", StringComparison.Ordinal) ? Enumerable.Range(1000, 200).Select(i => (long)i).ToArray() : null;
        if (ids is null)
        {
            index.Add(baseVectors);
        }
        else
        {
            index.AddWithIds(baseVectors, ids);
        }

        var output = _python.NewPath();
        var request = new Dictionary<string, object>
        {
            ["op"] = "reconstruct", ["factory"] = factory, ["metric"] = "L2", ["d"] = D,
            ["base"] = _python.Write<float>(baseVectors), ["keys"] = _python.Write<long>(keys), ["out_vectors"] = output,
        };
        if (ids is not null)
        {
            request["ids"] = _python.Write<long>(ids);
        }

        _python.Run(request);
        var expected = PythonFaiss.Read<float>(output);

        for (var i = 0; i < keys.Length; i++)
        {
            Assert.Equal(expected.AsSpan(i * D, D).ToArray(), index.Reconstruct(keys[i]));
        }
    }

    [Theory]
    [InlineData("Flat", FaissMetric.L2)]
    [InlineData("IVF16,Flat", FaissMetric.InnerProduct)]
    [InlineData("IDMap,Flat", FaissMetric.L2)]
    public void Serialized_bytes_round_trip_between_csharp_and_python(string factory, FaissMetric metric)
    {
        var baseVectors = TestData.Blobs(1500, D, clusters: 20, seed: 12);
        var queries = TestData.Uniform(20, D, seed: 13);
        var ids = IdsFor(factory, 1500);
        using var index = FaissIndex.Create(D, factory, metric);
        index.Train(baseVectors);
        Fill(index, baseVectors, ids);
        var ours = index.Search(queries, 10);

        // C# bytes, read by python
        var info = _python.NewPath();
        var fromCSharp = PythonSearch(
            new { op = "deserialize_search", d = D, k = 10, bytes = _python.Write<byte>(index.Serialize()), out_info = info },
            baseVectors: null, queries);
        Assert.Equal($"{D} {baseVectors.Length / D} {(int)metric}", File.ReadAllText(info));
        ParityAssert.SameNeighbours(ours.Distances, ours.Labels, fromCSharp.Distances, fromCSharp.Labels, 10, Rel);

        // python bytes, read by C#
        var pythonBytes = _python.NewPath();
        var request = new Dictionary<string, object>
        {
            ["op"] = "serialize", ["factory"] = factory, ["metric"] = metric.ToString(), ["d"] = D, ["k"] = 10, ["out_bytes"] = pythonBytes,
            ["train"] = _python.Write<float>(baseVectors),
        };
        var expected = PythonSearch(request, baseVectors, queries, ids);
        using var loaded = FaissIndex.Deserialize(File.ReadAllBytes(pythonBytes));
        var theirs = loaded.Search(queries, 10);
        Assert.Equal(index.Count, loaded.Count);
        Assert.Equal(metric, loaded.Metric);
        ParityAssert.SameNeighbours(expected.Distances, expected.Labels, theirs.Distances, theirs.Labels, 10, Rel);

        // and C# round trip, through bytes and through a file
        using var again = FaissIndex.Deserialize(index.Serialize());
        Assert.Equal(ours.Labels, again.Search(queries, 10).Labels);
        var file = _python.NewPath();
        index.Save(file);
        using var fromFile = FaissIndex.Load(file);
        Assert.Equal(ours.Labels, fromFile.Search(queries, 10).Labels);
    }

    [Theory]
    [InlineData(false, false, 1)]
    [InlineData(true, false, 1)]
    [InlineData(false, true, 3)]
    public void KMeans_matches_python_faiss(bool spherical, bool initialCentroids, int redo)
    {
        const int k = 12;
        var x = TestData.Blobs(3000, D, clusters: k, seed: 14);
        var init = initialCentroids ? TestData.Uniform(k, D, seed: 15) : null;
        var options = new FaissKMeansOptions
        {
            Iterations = 15, Redo = redo, Seed = 4321, Spherical = spherical,
            MinPointsPerCentroid = 5, MaxPointsPerCentroid = 200, InitialCentroids = init,
        };

        var centroids = _python.NewPath();
        var objective = _python.NewPath();
        var assignments = _python.NewPath();
        var request = new Dictionary<string, object>
        {
            ["op"] = "kmeans", ["d"] = D, ["k"] = k, ["niter"] = options.Iterations, ["nredo"] = options.Redo, ["seed"] = options.Seed,
            ["spherical"] = spherical, ["min_points"] = options.MinPointsPerCentroid, ["max_points"] = options.MaxPointsPerCentroid,
            ["x"] = _python.Write<float>(x), ["out_centroids"] = centroids, ["out_objective"] = objective, ["out_assignments"] = assignments,
        };
        if (init is not null)
        {
            request["init"] = _python.Write<float>(init);
        }

        _python.Run(request);
        var result = FaissClustering.KMeans(x, D, k, options);

        ParityAssert.AllClose(PythonFaiss.Read<float>(centroids), result.Centroids, Rel, "centroids");
        ParityAssert.AllClose(PythonFaiss.Read<float>(objective), result.Objective, Rel, "objective");
        Assert.Equal(PythonFaiss.Read<long>(assignments), result.Assignments);
        Assert.Equal(options.Iterations, result.Objective.Length);
    }

    public void Dispose() => _python.Dispose();

    /// <summary>IDMap types take caller ids; these are offset from positions so that a missed translation shows.</summary>
    private static long[]? IdsFor(string factory, int count) =>
        factory.StartsWith("IDMap", StringComparison.Ordinal) ? [.. Enumerable.Range(0, count).Select(i => 10_000L + i)] : null;

    private static void Fill(FaissIndex index, float[] vectors, long[]? ids)
    {
        if (ids is null)
        {
            index.Add(vectors);
        }
        else
        {
            index.AddWithIds(vectors, ids);
        }
    }

    private (float[] Distances, long[] Labels) PythonSearch(object request, float[]? baseVectors, float[] queries, long[]? ids = null)
    {
        var fields = request as IDictionary<string, object> ?? request.GetType().GetProperties().ToDictionary(p => p.Name, p => p.GetValue(request)!);
        var distances = _python.NewPath();
        var labels = _python.NewPath();
        var full = new Dictionary<string, object>(fields)
        {
            ["queries"] = _python.Write<float>(queries),
            ["out_distances"] = distances,
            ["out_labels"] = labels,
        };
        if (baseVectors is not null)
        {
            full["base"] = _python.Write<float>(baseVectors);
        }

        if (ids is not null)
        {
            full["ids"] = _python.Write<long>(ids);
        }

        _python.Run(full);
        return (PythonFaiss.Read<float>(distances), PythonFaiss.Read<long>(labels));
    }
}
