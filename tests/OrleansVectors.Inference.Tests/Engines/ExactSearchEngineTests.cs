using OrleansVectors.Inference.Engines;

namespace OrleansVectors.Inference.Tests.Engines;

/// <summary>
/// Every exact-search engine against faiss Flat on the same vectors: random and tie-heavy data, L2 and inner product,
/// k = 1, 10, 100, 2048, batches of 1 and 1,000 (the 1-query path streams, the batch path runs the blocked product).
/// </summary>
public sealed class ExactSearchEngineTests
{
    private const int Dimension = 24;
    private const int BaseCount = 3000;

    public static TheoryData<string, FaissMetric, bool, int, int> Matrix()
    {
        var data = new TheoryData<string, FaissMetric, bool, int, int>();
        foreach (var engine in EngineCases.All)
        {
            foreach (var metric in new[] { FaissMetric.L2, FaissMetric.InnerProduct })
            {
                foreach (var ties in new[] { false, true })
                {
                    foreach (var k in new[] { 1, 10, 100, 2048 })
                    {
                        foreach (var batch in new[] { 1, 1000 })
                        {
                            data.Add(engine, metric, ties, k, batch);
                        }
                    }
                }
            }
        }

        return data;
    }

    public static TheoryData<string> Engines() => new(EngineCases.All);

    [Theory]
    [MemberData(nameof(Matrix))]
    public void Knn_equals_faiss_Flat(string engine, FaissMetric metric, bool ties, int k, int batch)
    {
        var baseVectors = ties ? TestData.TieHeavy(BaseCount, Dimension, seed: 11) : TestData.Uniform(BaseCount, Dimension, seed: 12);
        var queries = ties ? TestData.TieHeavy(batch, Dimension, seed: 13) : TestData.Uniform(batch, Dimension, seed: 14);
        using var reference = Flat(baseVectors, metric, SearchEngineOptions.FaissOnly);
        using var index = Flat(baseVectors, metric, EngineCases.Options(engine));
        Assert.Equal(EngineCases.Kind(engine), index.SearchEngine);

        EngineAssert.SameAsFaiss(reference.Search(queries, k), index.Search(queries, k), baseVectors, null, queries, Dimension, metric);
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void Odd_and_wide_dimensions_and_caller_ids_equal_faiss(string engine)
    {
        foreach (var (dimension, metric) in new[] { (7, FaissMetric.L2), (128, FaissMetric.L2), (130, FaissMetric.InnerProduct), (1, FaissMetric.L2) })
        {
            var baseVectors = TestData.Uniform(1100, dimension, seed: dimension);
            var ids = Enumerable.Range(0, 1100).Select(i => 5_000_000_000L - (7L * i)).ToArray();
            using var reference = FaissIndex.Create(dimension, "IDMap,Flat", metric);
            reference.UseSearchEngine(SearchEngineOptions.FaissOnly);
            reference.AddWithIds(baseVectors, ids);
            using var index = FaissIndex.Create(dimension, "IDMap,Flat", metric);
            index.UseSearchEngine(EngineCases.Options(engine));
            index.AddWithIds(baseVectors, ids);
            Assert.Equal(EngineCases.Kind(engine), index.SearchEngine);

            foreach (var batch in new[] { 1, 3, 8, 61 })
            {
                var queries = TestData.Uniform(batch, dimension, seed: 100 + batch);
                EngineAssert.SameAsFaiss(reference.Search(queries, 15), index.Search(queries, 15), baseVectors, ids, queries, dimension, metric);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void Range_search_equals_faiss(string engine)
    {
        foreach (var metric in new[] { FaissMetric.L2, FaissMetric.InnerProduct })
        {
            var baseVectors = TestData.Uniform(BaseCount, Dimension, seed: 21);
            using var reference = Flat(baseVectors, metric, SearchEngineOptions.FaissOnly);
            using var index = Flat(baseVectors, metric, EngineCases.Options(engine));
            var radius = metric == FaissMetric.L2 ? 8f : 2.5f; // uniform in [-1, 1): a few percent of the vectors
            foreach (var batch in new[] { 1, 200 })
            {
                var queries = TestData.Uniform(batch, Dimension, seed: 22 + batch);
                var expected = reference.RangeSearch(queries, radius);
                var actual = index.RangeSearch(queries, radius);
                Assert.True(expected.Labels.Length > batch, "the radius should catch several vectors a query");
                EngineAssert.SameRangeAsFaiss(expected, actual, radius);
                for (var q = 0; q < batch; q++)
                {
                    var distances = actual.DistancesOf(q).ToArray();
                    var sorted = metric == FaissMetric.L2 ? distances.Order() : distances.OrderDescending();
                    Assert.Equal(sorted, distances); // the engines sort best first
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void K_beyond_the_count_pads_as_faiss_does(string engine)
    {
        foreach (var metric in new[] { FaissMetric.L2, FaissMetric.InnerProduct })
        {
            var baseVectors = TestData.Uniform(5, 4, seed: 1);
            using var reference = FaissIndex.Create(4, "Flat", metric);
            reference.UseSearchEngine(SearchEngineOptions.FaissOnly);
            reference.Add(baseVectors);
            using var index = FaissIndex.Create(4, "Flat", metric);
            index.UseSearchEngine(EngineCases.Options(engine));
            index.Add(baseVectors);
            foreach (var batch in new[] { 1, 12 })
            {
                var queries = TestData.Uniform(batch, 4, seed: 2);
                var expected = reference.Search(queries, 8);
                var actual = index.Search(queries, 8);
                Assert.Equal(expected.LabelsOf(0)[5..].ToArray(), actual.LabelsOf(0)[5..].ToArray());
                Assert.Equal(expected.DistancesOf(batch - 1)[5..].ToArray(), actual.DistancesOf(batch - 1)[5..].ToArray());
                EngineAssert.SameAsFaiss(expected, actual, baseVectors, null, queries, 4, metric);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void The_engine_follows_adds_removes_merges_and_reloads(string engine)
    {
        var first = TestData.Uniform(900, 16, seed: 31);
        var second = TestData.Uniform(700, 16, seed: 32);
        var queries = TestData.Uniform(20, 16, seed: 33);
        using var reference = FaissIndex.Create(16);
        reference.UseSearchEngine(SearchEngineOptions.FaissOnly);
        using var index = FaissIndex.Create(16);
        index.UseSearchEngine(EngineCases.Options(engine));
        void Check(string when)
        {
            Assert.Equal(reference.Count, index.Count);
            var all = new float[reference.Count * 16];
            reference.ReadRows(0, new long[reference.Count], all);
            foreach (var batch in new[] { 1, 20 })
            {
                var q = queries.AsSpan(0, batch * 16).ToArray();
                EngineAssert.SameAsFaiss(reference.Search(q, 10), index.Search(q, 10), all, null, q, 16, FaissMetric.L2);
            }

            Assert.True(index.SearchEngine == EngineCases.Kind(engine), $"after {when}: {index.SearchEngineDescription}");
        }

        reference.Add(first);
        index.Add(first);
        Check("an add");
        reference.Add(second);
        index.Add(second);
        Check("a second add");
        long[] removed = [0, 5, 899, 1200, 1599];
        Assert.Equal(reference.Remove(removed), index.Remove(removed));
        Check("a remove");

        using var extra = FaissIndex.Create(16);
        extra.Add(TestData.Uniform(300, 16, seed: 34));
        using var extraCopy = FaissIndex.Create(16); // a deserialized Flat is IndexFlatL2, which faiss 1.7.3 will not merge into IndexFlat
        extraCopy.Add(TestData.Uniform(300, 16, seed: 34));
        reference.MergeFrom(extra);
        index.MergeFrom(extraCopy);
        Check("a merge");

        using var reloaded = FaissIndex.Deserialize(index.Serialize());
        reloaded.UseSearchEngine(EngineCases.Options(engine));
        var r = TestData.Uniform(30, 16, seed: 35);
        EngineAssert.SameAsFaiss(reference.Search(r, 7), reloaded.Search(r, 7), ReadAll(reference), null, r, 16, FaissMetric.L2);
    }

    [Fact]
    public void The_choice_is_visible_and_approximate_types_stay_on_faiss()
    {
        using var flat = FaissIndex.Create(8);
        Assert.Equal(SearchEngineKind.Cpu, flat.SearchEngine);
        Assert.Contains("cpu", flat.SearchEngineDescription, StringComparison.Ordinal);

        using var hnsw = FaissIndex.Create(8, "HNSW16");
        Assert.Equal(SearchEngineKind.Faiss, hnsw.SearchEngine);
        hnsw.UseSearchEngine(new SearchEngineOptions { Preference = SearchEnginePreference.Cpu });
        Assert.Equal(SearchEngineKind.Faiss, hnsw.SearchEngine);
        Assert.Contains("Flat", hnsw.SearchEngineDescription, StringComparison.Ordinal);

        flat.UseSearchEngine(SearchEngineOptions.FaissOnly);
        Assert.Equal(SearchEngineKind.Faiss, flat.SearchEngine);
        Assert.Equal("faiss", flat.SearchEngineDescription);
    }

    [Fact]
    public void An_add_past_the_device_budget_fails_clearly_and_leaves_the_index_as_it_was()
    {
        var vectors = TestData.Uniform(1000, 16, seed: 61);
        using var index = FaissIndex.Create(16);
        // a row of 16 floats and an id takes 72 bytes: room for 1,000 rows (and search scratch), not for 2,000
        index.UseSearchEngine(new SearchEngineOptions
        {
            Preference = SearchEnginePreference.Gpu, GpuDevice = IlgpuDevicePreference.Cpu, GpuMemoryBudgetBytes = 140_000,
        });
        index.Add(vectors);
        var queries = TestData.Uniform(5, 16, seed: 62);
        var before = index.Search(queries, 10);

        var failure = Assert.Throws<DeviceMemoryBudgetExceededException>(() => index.Add(TestData.Uniform(1000, 16, seed: 63)));

        Assert.Contains("140,000", failure.Message, StringComparison.Ordinal);
        Assert.Equal(1000, index.Count);
        Assert.Equal(SearchEngineKind.Gpu, index.SearchEngine);
        var after = index.Search(queries, 10);
        Assert.Equal(before.Labels, after.Labels);
        Assert.Equal(before.Distances, after.Distances);
    }

    [Fact]
    public void A_device_search_that_cannot_get_scratch_memory_is_answered_by_faiss_and_says_so()
    {
        var vectors = TestData.Uniform(1000, 16, seed: 64);
        using var reference = FaissIndex.Create(16);
        reference.UseSearchEngine(SearchEngineOptions.FaissOnly);
        reference.Add(vectors);
        using var index = FaissIndex.Create(16);
        // room for the 1,024-row storage (73,728 bytes), none for a query's scratch
        index.UseSearchEngine(new SearchEngineOptions
        {
            Preference = SearchEnginePreference.Gpu, GpuDevice = IlgpuDevicePreference.Cpu, GpuMemoryBudgetBytes = 74_000,
        });
        index.Add(vectors);
        var queries = TestData.Uniform(20, 16, seed: 65);

        EngineAssert.SameAsFaiss(reference.Search(queries, 10), index.Search(queries, 10), vectors, null, queries, 16, FaissMetric.L2);
        EngineAssert.SameRangeAsFaiss(reference.RangeSearch(queries, 2f), index.RangeSearch(queries, 2f), 2f);
        Assert.Equal(SearchEngineKind.Gpu, index.SearchEngine);
        Assert.Contains("fell back to faiss", index.SearchEngineDescription, StringComparison.Ordinal);
    }

    [Fact]
    public void Preferring_the_GPU_without_a_CUDA_device_falls_back_to_the_CPU_engine_and_says_why()
    {
        using var index = FaissIndex.Create(8);
        index.UseSearchEngine(new SearchEngineOptions { Preference = SearchEnginePreference.Gpu });
        if (IlgpuFlatEngine.IsCudaAvailable)
        {
            Assert.Equal(SearchEngineKind.Gpu, index.SearchEngine);
        }
        else
        {
            Assert.Equal(SearchEngineKind.Cpu, index.SearchEngine);
            Assert.Contains("no CUDA device", index.SearchEngineDescription, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Ties_come_in_ascending_id_order_on_both_paths()
    {
        // eight copies of each of 300 points: every query has runs of equal distances
        var distinct = TestData.TieHeavy(300, 8, seed: 41);
        var baseVectors = Enumerable.Repeat(distinct, 8).SelectMany(v => v).ToArray();
        using var index = FaissIndex.Create(8);
        index.Add(baseVectors);
        foreach (var batch in new[] { 1, 50 })
        {
            var queries = TestData.TieHeavy(batch, 8, seed: 42);
            var result = index.Search(queries, 40);
            for (var q = 0; q < batch; q++)
            {
                var labels = result.LabelsOf(q);
                var distances = result.DistancesOf(q);
                for (var j = 1; j < 40; j++)
                {
                    Assert.True(distances[j - 1] < distances[j] || (distances[j - 1] == distances[j] && labels[j - 1] < labels[j]), $"query {q} rank {j}");
                }
            }
        }
    }

    private static FaissIndex Flat(float[] baseVectors, FaissMetric metric, SearchEngineOptions options)
    {
        var index = FaissIndex.Create(Dimension, "Flat", metric);
        index.UseSearchEngine(options);
        index.Add(baseVectors);
        return index;
    }

    private static float[] ReadAll(FaissIndex index)
    {
        var all = new float[index.Count * index.Dimension];
        index.ReadRows(0, new long[index.Count], all);
        return all;
    }
}
