using OrleansVectors.Inference.Engines;

namespace OrleansVectors.Inference.Tests.Engines;

/// <summary>
/// The ILGPU Flat engine against an exact search in double precision, on ILGPU's CPU accelerator (and on CUDA
/// where a device exists). Integer-valued data makes every float distance exact, so there ids and distances must
/// equal the reference bit for bit, ties by smaller id included.
/// </summary>
public sealed class IlgpuFlatEngineTests
{
    private const int BaseCount = 2500;

    public static TheoryData<IlgpuDevicePreference> Devices()
    {
        var devices = new TheoryData<IlgpuDevicePreference> { IlgpuDevicePreference.Cpu };
        if (IlgpuFlatEngine.IsCudaAvailable)
        {
            devices.Add(IlgpuDevicePreference.Cuda);
        }

        return devices;
    }

    [Theory]
    [InlineData(false, 1, 1)]
    [InlineData(false, 10, 1000)]
    [InlineData(false, 100, 1)]
    [InlineData(false, 2048, 1000)]
    [InlineData(true, 1, 1000)]
    [InlineData(true, 10, 1)]
    [InlineData(true, 100, 1000)]
    [InlineData(true, 2048, 1)]
    public void Search_matches_brute_force_on_random_data(bool innerProduct, int k, int queryCount)
    {
        const int dimension = 12;
        var vectors = TestData.Uniform(BaseCount, dimension, seed: 11);
        var queries = TestData.Uniform(queryCount, dimension, seed: 12);
        using var engine = Cpu(dimension, innerProduct);
        engine.Append(vectors, Sequence(BaseCount));

        var (distances, labels) = SearchAll(engine, queries, k);

        AssertMatchesReference(vectors, Sequence(BaseCount), queries, dimension, innerProduct, k, distances, labels, exact: false);
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(7, true)]
    [InlineData(130, false)]
    [InlineData(130, true)]
    public void Odd_and_wide_dimensions_match_brute_force(int dimension, bool innerProduct)
    {
        var vectors = TestData.Uniform(1100, dimension, seed: dimension);
        var queries = TestData.Uniform(61, dimension, seed: 100 + dimension);
        var ids = Enumerable.Range(0, 1100).Select(i => 5_000_000_000L - (7L * i)).ToArray();
        using var engine = Cpu(dimension, innerProduct);
        engine.Append(vectors, ids);

        var (distances, labels) = SearchAll(engine, queries, 15);

        AssertMatchesReference(vectors, ids, queries, dimension, innerProduct, 15, distances, labels, exact: false);
    }

    [Theory]
    [InlineData(false, 10)]
    [InlineData(false, 100)]
    [InlineData(false, 2048)]
    [InlineData(true, 10)]
    [InlineData(true, 100)]
    [InlineData(true, 2048)]
    public void Search_breaks_ties_by_smaller_id_on_tie_heavy_data(bool innerProduct, int k)
    {
        const int dimension = 8;
        var vectors = SmallIntegers(BaseCount, dimension, seed: 21);
        var queries = SmallIntegers(200, dimension, seed: 22);
        var ids = ScatteredIds(BaseCount, seed: 23);
        using var engine = Cpu(dimension, innerProduct);
        engine.Append(vectors, ids);

        var (distances, labels) = SearchAll(engine, queries, k);

        AssertMatchesReference(vectors, ids, queries, dimension, innerProduct, k, distances, labels, exact: true);
    }

    [Theory]
    [InlineData(false, 10)]
    [InlineData(false, 2048)]
    [InlineData(true, 100)]
    [InlineData(true, 2048)]
    public void Search_merges_chunks_and_batches_exactly(bool innerProduct, int k)
    {
        const int dimension = 16;
        var vectors = SmallIntegers(BaseCount, dimension, seed: 31);
        var queries = SmallIntegers(150, dimension, seed: 32);
        var ids = ScatteredIds(BaseCount, seed: 33);
        // 300-row chunks (not a multiple of the tile) and 64-query batches: 9 chunks, 3 batches.
        using var engine = IlgpuFlatEngine.Create(dimension, innerProduct, new IlgpuFlatEngineOptions
        {
            Device = IlgpuDevicePreference.Cpu,
            QueryBatch = 64,
            ChunkRows = 300,
        });

        // Appended in uneven pieces, so the storage grows while rows arrive.
        for (var first = 0; first < BaseCount; first += 700)
        {
            var rows = Math.Min(700, BaseCount - first);
            engine.Append(vectors.AsSpan(first * dimension, rows * dimension), ids.AsSpan(first, rows));
        }

        var (distances, labels) = SearchAll(engine, queries, k);

        Assert.Equal(BaseCount, engine.Count);
        AssertMatchesReference(vectors, ids, queries, dimension, innerProduct, k, distances, labels, exact: true);
    }

    [Theory]
    [InlineData(false, 100)]
    [InlineData(true, 300)]
    [InlineData(false, 2048)]
    public void Kernels_cooperate_correctly_with_several_threads_per_group(bool innerProduct, int k)
    {
        // Production CPU groups have one thread; four make the barriers, shared histograms and atomic slots race
        // as they do on a GPU. Every CPU barrier costs about 0.1 ms, hence the small sizes.
        const int dimension = 20;
        var vectors = SmallIntegers(900, dimension, seed: 35);
        var queries = SmallIntegers(12, dimension, seed: 36);
        var ids = ScatteredIds(900, seed: 37);
        using var engine = IlgpuFlatEngine.Create(dimension, innerProduct, new IlgpuFlatEngineOptions
        {
            Device = IlgpuDevicePreference.Cpu,
            QueryBatch = 5,
            ChunkRows = 400,
            RangeResultRows = 500,
            CpuThreadsPerGroup = 4,
        });
        engine.Append(vectors, ids);

        var (distances, labels) = SearchAll(engine, queries, k);
        var (offsets, _, hits) = engine.RangeSearch(queries, innerProduct ? 4f : 12f);

        AssertMatchesReference(vectors, ids, queries, dimension, innerProduct, k, distances, labels, exact: true);
        for (var q = 0; q < 12; q++)
        {
            var expected = Reference(vectors, ids, queries.AsSpan(q * dimension, dimension), innerProduct)
                .Where(r => innerProduct ? r.Distance > 4 : r.Distance < 12)
                .Select(r => r.Id);
            Assert.Equal(expected, hits[(int)offsets[q]..(int)offsets[q + 1]]);
        }
    }

    [Theory]
    [MemberData(nameof(Devices))]
    public void Search_on_each_available_device_matches_brute_force(IlgpuDevicePreference device)
    {
        const int dimension = 10;
        var vectors = SmallIntegers(BaseCount, dimension, seed: 41);
        var queries = SmallIntegers(300, dimension, seed: 42);
        var ids = ScatteredIds(BaseCount, seed: 43);
        using var engine = IlgpuFlatEngine.Create(dimension, innerProduct: false, new IlgpuFlatEngineOptions { Device = device });
        engine.Append(vectors, ids);

        var (distances, labels) = SearchAll(engine, queries, 64);

        Assert.Equal(device == IlgpuDevicePreference.Cuda, engine.IsCuda);
        Assert.False(string.IsNullOrEmpty(engine.DeviceName));
        AssertMatchesReference(vectors, ids, queries, dimension, innerProduct: false, 64, distances, labels, exact: true);
    }

    [Theory]
    [InlineData(false, float.MaxValue)]
    [InlineData(true, -float.MaxValue)]
    public void K_beyond_the_count_pads_as_faiss_does(bool innerProduct, float padding)
    {
        // faiss 1.7.3 IndexFlatL2 / IndexFlatIP pad with label -1 and ±3.4028235e+38 (float.MaxValue), not infinity.
        using var engine = Cpu(4, innerProduct);
        engine.Append([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0], [7, 8, 9]);

        var (distances, labels) = SearchAll(engine, [1, 0, 0, 0], 6);

        Assert.Equal(new long[] { 7, 8, 9, -1, -1, -1 }, labels);
        Assert.Equal(innerProduct ? new float[] { 1, 0, 0 } : new float[] { 0, 2, 2 }, distances[..3]);
        Assert.All(distances[3..], d => Assert.Equal(padding, d));
    }

    [Fact]
    public void Empty_engine_returns_only_padding()
    {
        using var engine = Cpu(4, innerProduct: false);

        var (distances, labels) = SearchAll(engine, new float[8], 3);

        Assert.All(labels, id => Assert.Equal(-1, id));
        Assert.All(distances, d => Assert.Equal(float.MaxValue, d));
    }

    [Theory]
    [InlineData(false, 6f)]
    [InlineData(true, 5f)]
    public void Range_search_returns_exactly_the_hits_ordered_as_search(bool innerProduct, float radius)
    {
        const int dimension = 8;
        var vectors = SmallIntegers(BaseCount, dimension, seed: 51);
        var queries = SmallIntegers(120, dimension, seed: 52);
        var ids = ScatteredIds(BaseCount, seed: 53);
        // Small chunks and a small hit buffer: hits of one chunk come back over several passes.
        using var engine = IlgpuFlatEngine.Create(dimension, innerProduct, new IlgpuFlatEngineOptions
        {
            Device = IlgpuDevicePreference.Cpu,
            QueryBatch = 50,
            ChunkRows = 700,
            RangeResultRows = 1000,
        });
        engine.Append(vectors, ids);

        var (offsets, distances, labels) = engine.RangeSearch(queries, radius);

        Assert.Equal(queries.Length / dimension + 1, offsets.Length);
        var total = 0L;
        for (var q = 0; q < queries.Length / dimension; q++)
        {
            var expected = Reference(vectors, ids, queries.AsSpan(q * dimension, dimension), innerProduct)
                .Where(r => innerProduct ? r.Distance > radius : r.Distance < radius)
                .ToArray();
            Assert.Equal(offsets[q] + expected.Length, offsets[q + 1]);
            Assert.Equal(expected.Select(r => r.Id), labels[(int)offsets[q]..(int)offsets[q + 1]]);
            Assert.Equal(expected.Select(r => (float)r.Distance), distances[(int)offsets[q]..(int)offsets[q + 1]]);
            total += expected.Length;
        }

        Assert.True(total > 1000, $"the radius should give many hits; got {total}");
        Assert.Equal(total, labels.Length);
    }

    [Fact]
    public void Range_search_on_random_data_agrees_with_brute_force()
    {
        const int dimension = 12;
        var vectors = TestData.Uniform(BaseCount, dimension, seed: 61);
        var queries = TestData.Uniform(40, dimension, seed: 62);
        const float radius = 2.5f;
        using var engine = Cpu(dimension, innerProduct: false);
        engine.Append(vectors, Sequence(BaseCount));

        var (offsets, distances, labels) = engine.RangeSearch(queries, radius);

        for (var q = 0; q < 40; q++)
        {
            var reference = Reference(vectors, Sequence(BaseCount), queries.AsSpan(q * dimension, dimension), innerProduct: false);
            var got = labels[(int)offsets[q]..(int)offsets[q + 1]];
            var gotDistances = distances[(int)offsets[q]..(int)offsets[q + 1]];
            // Only rows within float rounding of the radius may differ.
            var sure = reference.Where(r => r.Distance < radius * (1 - 1e-5)).Select(r => r.Id).ToHashSet();
            var possible = reference.Where(r => r.Distance < radius * (1 + 1e-5)).Select(r => r.Id).ToHashSet();
            Assert.Subset(got.ToHashSet(), sure);
            Assert.Superset(possible, got.ToHashSet());
            AssertOrdered(gotDistances, got, innerProduct: false, $"query {q}");
            var byId = reference.ToDictionary(r => r.Id, r => r.Distance);
            for (var i = 0; i < got.Length; i++)
            {
                ParityAssert.Close(byId[got[i]], gotDistances[i], 1e-5, $"query {q} hit {i}");
            }
        }
    }

    [Fact]
    public void Append_over_the_budget_throws_and_leaves_the_engine_unchanged()
    {
        const int dimension = 8; // 40 bytes a row with its id
        var vectors = TestData.Uniform(3000, dimension, seed: 71);
        var queries = TestData.Uniform(20, dimension, seed: 72);
        using var engine = IlgpuFlatEngine.Create(dimension, innerProduct: false, new IlgpuFlatEngineOptions
        {
            Device = IlgpuDevicePreference.Cpu,
            MemoryBudgetBytes = 100_000,
        });
        // 400 rows take the initial 1024-row capacity; 1000 more grow it to 2048 rows (81,920 bytes), which only
        // fits by staging the old rows through the host, and leaves scratch room for a few queries per batch.
        engine.Append(vectors.AsSpan(0, 400 * dimension), Sequence(400));
        engine.Append(vectors.AsSpan(400 * dimension, 1000 * dimension), Sequence(1000, first: 400));
        var (distancesBefore, labelsBefore) = SearchAll(engine, queries, 10);
        AssertMatchesReference(vectors[..(1400 * dimension)], Sequence(1400), queries, dimension, false, 10, distancesBefore, labelsBefore, exact: false);
        var bytesBefore = engine.DeviceBytes;

        var error = Assert.Throws<DeviceMemoryBudgetExceededException>(
            () => engine.Append(vectors.AsSpan(1400 * dimension, 1600 * dimension), Sequence(1600, first: 1400)));

        Assert.Contains("120,000", error.Message, StringComparison.Ordinal);
        Assert.Contains("100,000", error.Message, StringComparison.Ordinal);
        Assert.Equal(120_000, error.BytesNeeded);
        Assert.Equal(100_000, error.BudgetBytes);
        Assert.Equal(1400, engine.Count);
        Assert.Equal(bytesBefore, engine.DeviceBytes);
        Assert.True(engine.DeviceBytes <= engine.MemoryBudgetBytes);
        var (distancesAfter, labelsAfter) = SearchAll(engine, queries, 10);
        Assert.Equal(labelsBefore, labelsAfter);
        Assert.Equal(distancesBefore, distancesAfter);
    }

    [Fact]
    public void Search_without_room_for_one_query_throws_the_budget_error()
    {
        const int dimension = 8;
        using var engine = IlgpuFlatEngine.Create(dimension, innerProduct: true, new IlgpuFlatEngineOptions
        {
            Device = IlgpuDevicePreference.Cpu,
            MemoryBudgetBytes = 1024 * 40 + 100,
        });
        engine.Append(TestData.Uniform(1000, dimension, seed: 81), Sequence(1000));

        Assert.Throws<DeviceMemoryBudgetExceededException>(() => SearchAll(engine, TestData.Uniform(1, dimension, seed: 82), 5));
        Assert.Throws<DeviceMemoryBudgetExceededException>(() => engine.RangeSearch(TestData.Uniform(1, dimension, seed: 82), 0.5f));
        Assert.Equal(1000, engine.Count);
    }

    [Fact]
    public void Clear_frees_the_device_memory_and_the_engine_can_be_refilled()
    {
        const int dimension = 8;
        using var engine = Cpu(dimension, innerProduct: false);
        engine.Append(TestData.Uniform(100, dimension, seed: 91), Sequence(100));
        SearchAll(engine, TestData.Uniform(3, dimension, seed: 92), 4);
        Assert.True(engine.DeviceBytes > 0);

        engine.Clear();

        Assert.Equal(0, engine.Count);
        Assert.Equal(0, engine.DeviceBytes);
        Assert.All(SearchAll(engine, new float[dimension], 2).Labels, id => Assert.Equal(-1, id));
        engine.Append(new float[dimension], [42]);
        Assert.Equal(new long[] { 42, -1 }, SearchAll(engine, new float[dimension], 2).Labels);
    }

    [Fact]
    public void Concurrent_searches_return_what_sequential_ones_do()
    {
        const int dimension = 8;
        var vectors = SmallIntegers(1500, dimension, seed: 101);
        using var engine = Cpu(dimension, innerProduct: false);
        engine.Append(vectors, ScatteredIds(1500, seed: 102));
        var queries = Enumerable.Range(0, 6).Select(i => SmallIntegers(30, dimension, seed: 110 + i)).ToArray();
        var sequential = queries.Select(q => SearchAll(engine, q, 20).Labels).ToArray();

        var concurrent = queries.AsParallel().WithDegreeOfParallelism(3).Select(q => SearchAll(engine, q, 20).Labels).ToArray();

        Assert.Equal(sequential, concurrent);
    }

    [Fact]
    public void Bad_arguments_are_rejected()
    {
        using var engine = Cpu(4, innerProduct: false);
        engine.Append(new float[8], [1, 2]);
        var distances = new float[10];
        var labels = new long[10];

        Assert.Throws<ArgumentException>(() => engine.Append(new float[8], [1]));
        Assert.Throws<ArgumentException>(() => engine.Append(new float[7], [1, 2]));
        Assert.Throws<ArgumentException>(() => engine.Append([float.NaN, 0, 0, 0], [3]));
        Assert.Throws<ArgumentOutOfRangeException>(() => engine.Search(new float[4], 0, distances, labels));
        Assert.Throws<ArgumentOutOfRangeException>(() => engine.Search(new float[4], IlgpuFlatEngine.MaxK + 1, new float[4096], new long[4096]));
        Assert.Throws<ArgumentException>(() => engine.Search(new float[5], 1, distances, labels));
        Assert.Throws<ArgumentException>(() => engine.Search(ReadOnlySpan<float>.Empty, 1, distances, labels));
        Assert.Throws<ArgumentException>(() => engine.Search(new float[12], 4, distances, labels));
        Assert.Throws<ArgumentException>(() => engine.Search(new float[4], 4, distances, new long[3]));
        Assert.Throws<ArgumentException>(() => engine.RangeSearch(new float[4], float.NaN));
        Assert.Throws<ArgumentException>(() => engine.RangeSearch(new float[6], 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => IlgpuFlatEngine.Create(0, false, new IlgpuFlatEngineOptions { Device = IlgpuDevicePreference.Cpu }));
        Assert.Throws<ArgumentOutOfRangeException>(() => IlgpuFlatEngine.Create(4, false, new IlgpuFlatEngineOptions { Device = IlgpuDevicePreference.Cpu, QueryBatch = 0 }));
        Assert.Equal(2, engine.Count);
    }

    [Theory]
    [InlineData(IlgpuDevicePreference.Cuda)]
    [InlineData(IlgpuDevicePreference.Auto)]
    public void Cuda_preferences_get_cuda_or_nothing(IlgpuDevicePreference device)
    {
        var options = new IlgpuFlatEngineOptions { Device = device };

        using var engine = IlgpuFlatEngine.TryCreate(4, innerProduct: false, options);

        Assert.Equal(IlgpuFlatEngine.IsCudaAvailable, engine is not null);
        if (IlgpuFlatEngine.IsCudaAvailable)
        {
            Assert.True(engine!.IsCuda);
        }
        else
        {
            Assert.Throws<InvalidOperationException>(() => IlgpuFlatEngine.Create(4, false, options));
        }
    }

    [Fact]
    public void Disposed_engine_refuses_calls()
    {
        var engine = Cpu(4, innerProduct: false);
        engine.Dispose();
        engine.Dispose();

        Assert.Throws<ObjectDisposedException>(() => engine.Append(new float[4], [1]));
        Assert.Throws<ObjectDisposedException>(() => SearchAll(engine, new float[4], 1));
    }

    private static IlgpuFlatEngine Cpu(int dimension, bool innerProduct) =>
        IlgpuFlatEngine.Create(dimension, innerProduct, new IlgpuFlatEngineOptions { Device = IlgpuDevicePreference.Cpu });

    private static (float[] Distances, long[] Labels) SearchAll(IlgpuFlatEngine engine, float[] queries, int k)
    {
        var n = queries.Length / engine.Dimension;
        var distances = new float[n * k];
        var labels = new long[n * k];
        engine.Search(queries, k, distances, labels);
        return (distances, labels);
    }

    private static long[] Sequence(int count, int first = 0) => Enumerable.Range(first, count).Select(i => (long)i).ToArray();

    /// <summary>Values in {-1, 0, 1, 2}: distances are small exact integers with many ties.</summary>
    private static float[] SmallIntegers(int count, int dimension, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count * dimension).Select(_ => (float)random.Next(-1, 3)).ToArray();
    }

    /// <summary>Distinct ids in a shuffled order, spread over all bytes of a long (negative ones included).</summary>
    private static long[] ScatteredIds(int count, int seed)
    {
        var random = new Random(seed);
        var ids = Enumerable.Range(0, count).Select(i => ((long)i * 0x0100_0100_0101L) - 0x7000_0000_0000L).ToArray();
        random.Shuffle(ids);
        return ids;
    }

    private static (double Distance, long Id)[] Reference(float[] vectors, long[] ids, ReadOnlySpan<float> query, bool innerProduct)
    {
        var d = query.Length;
        var ranked = new (double Distance, long Id)[ids.Length];
        for (var i = 0; i < ids.Length; i++)
        {
            double sum = 0;
            for (var j = 0; j < d; j++)
            {
                double y = vectors[(i * d) + j];
                sum += innerProduct ? query[j] * y : (query[j] - y) * (query[j] - y);
            }

            ranked[i] = (sum, ids[i]);
        }

        Array.Sort(ranked, (x, y) =>
        {
            var byDistance = innerProduct ? y.Distance.CompareTo(x.Distance) : x.Distance.CompareTo(y.Distance);
            return byDistance != 0 ? byDistance : x.Id.CompareTo(y.Id);
        });
        return ranked;
    }

    /// <summary>
    /// Exact: ids and distances equal the reference's. Otherwise distances agree within 1e-5 relative, each id
    /// is reported with its own distance, and an id may differ from the reference's only where the reference's
    /// distances tie within that tolerance.
    /// </summary>
    private static void AssertMatchesReference(
        float[] vectors, long[] ids, float[] queries, int dimension, bool innerProduct, int k, float[] distances, long[] labels, bool exact)
    {
        var n = queries.Length / dimension;
        var rows = Math.Min(k, ids.Length);
        for (var q = 0; q < n; q++)
        {
            var expected = Reference(vectors, ids, queries.AsSpan(q * dimension, dimension), innerProduct);
            var gotLabels = labels.AsSpan(q * k, k);
            var gotDistances = distances.AsSpan(q * k, k);
            if (exact)
            {
                Assert.Equal(expected[..rows].Select(r => r.Id), gotLabels[..rows].ToArray());
                Assert.Equal(expected[..rows].Select(r => (float)r.Distance), gotDistances[..rows].ToArray());
            }
            else
            {
                var byId = expected.ToDictionary(r => r.Id, r => r.Distance);
                Assert.Equal(rows, gotLabels[..rows].ToArray().Distinct().Count());
                for (var j = 0; j < rows; j++)
                {
                    ParityAssert.Close(expected[j].Distance, gotDistances[j], 1e-5, $"query {q} rank {j}");
                    ParityAssert.Close(byId[gotLabels[j]], gotDistances[j], 1e-5, $"query {q} rank {j} own distance");
                    if (gotLabels[j] != expected[j].Id)
                    {
                        Assert.True(
                            Math.Abs(byId[gotLabels[j]] - expected[j].Distance) <= 1e-5 * Math.Max(1, Math.Abs(expected[j].Distance)),
                            $"query {q} rank {j}: got id {gotLabels[j]}, expected {expected[j].Id}, and they do not tie");
                    }
                }

                AssertOrdered(gotDistances[..rows], gotLabels[..rows], innerProduct, $"query {q}");
            }

            Assert.All(gotLabels[rows..].ToArray(), id => Assert.Equal(-1, id));
        }
    }

    /// <summary>Best first by the engine's own float distances, equal distances by smaller id.</summary>
    private static void AssertOrdered(ReadOnlySpan<float> distances, ReadOnlySpan<long> labels, bool innerProduct, string what)
    {
        for (var j = 1; j < distances.Length; j++)
        {
            var previous = innerProduct ? -distances[j - 1] : distances[j - 1];
            var current = innerProduct ? -distances[j] : distances[j];
            Assert.True(
                previous < current || (previous == current && labels[j - 1] < labels[j]),
                $"{what}: rank {j - 1} ({distances[j - 1]}, {labels[j - 1]}) should come before rank {j} ({distances[j]}, {labels[j]})");
        }
    }
}
