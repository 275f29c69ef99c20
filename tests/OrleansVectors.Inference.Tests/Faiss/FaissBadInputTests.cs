namespace OrleansVectors.Inference.Tests.Faiss;

/// <summary>Every bad input gets a specific exception before faiss sees it, and leaves the index as it was.</summary>
public sealed class FaissBadInputTests : IDisposable
{
    private const int D = 8;
    private readonly FaissIndex _index = FaissIndex.Create(D);
    private readonly float[] _queries = TestData.Uniform(3, D, seed: 2);

    public FaissBadInputTests() => _index.Add(TestData.Uniform(50, D, seed: 1));

    [Fact]
    public void Dimension_mismatch_is_rejected()
    {
        AssertRejected<ArgumentException>(() => _index.Add(new float[4, D + 1]), "Dimension mismatch");
        AssertRejected<ArgumentException>(() => _index.Search(new float[2, D - 1], 1), "Dimension mismatch");
    }

    [Fact]
    public void Ragged_input_is_rejected()
    {
        AssertRejected<ArgumentException>(() => _index.Add(new float[(D * 3) + 1]), "not a whole number");
        AssertRejected<ArgumentException>(() => _index.Search(new float[D + 2], 1), "not a whole number");
        AssertRejected<ArgumentException>(() => _index.RangeSearch(new float[D - 1], 1f), "not a whole number");
    }

    [Fact]
    public void Empty_input_is_rejected()
    {
        AssertRejected<ArgumentException>(() => _index.Add(ReadOnlySpan<float>.Empty), "empty");
        AssertRejected<ArgumentException>(() => _index.Search(ReadOnlySpan<float>.Empty, 1), "empty");
        AssertRejected<ArgumentException>(() => _index.Train(new float[0, D]), "empty");
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void Non_finite_values_are_rejected(float value)
    {
        var bad = TestData.Uniform(4, D, seed: 3);
        bad[(2 * D) + 5] = value;

        AssertRejected<ArgumentException>(() => _index.Add(bad), "Vector 2 has a non-finite value");
        AssertRejected<ArgumentException>(() => _index.AddWithIds(bad, [1, 2, 3, 4]), "non-finite");
        AssertRejected<ArgumentException>(() => _index.Search(bad, 1), "non-finite");
        AssertRejected<ArgumentException>(() => _index.RangeSearch(bad, 1f), "non-finite");
        AssertRejected<ArgumentException>(() => FaissClustering.KMeans(bad, D, 2), "non-finite");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    [InlineData(FaissIndex.MaxK + 1)]
    public void K_outside_the_accepted_range_is_rejected(int k)
    {
        AssertRejected<ArgumentOutOfRangeException>(() => _index.Search(_queries, k), "k");
    }

    [Fact]
    public void Undersized_result_buffers_are_rejected()
    {
        AssertRejected<ArgumentException>(() => _index.Search(_queries, 2, new float[5], new long[6]), "distances buffer");
        AssertRejected<ArgumentException>(() => _index.Search(_queries, 2, new float[6], new long[5]), "labels buffer");
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void A_radius_that_is_not_a_finite_number_is_rejected(float radius)
    {
        AssertRejected<ArgumentException>(() => _index.RangeSearch(_queries, radius), "radius");
    }

    [Fact]
    public void Ids_count_mismatch_and_negative_ids_are_rejected()
    {
        using var mapped = FaissIndex.Create(D, "IDMap,Flat");
        var vectors = TestData.Uniform(3, D, seed: 4);
        mapped.AddWithIds(vectors, [7, 8, 9]);

        AssertRejected<ArgumentException>(mapped, () => mapped.AddWithIds(vectors, [1, 2]), "exactly one id per vector");
        AssertRejected<ArgumentOutOfRangeException>(mapped, () => mapped.AddWithIds(vectors, [1, -1, 2]), "non-negative");
    }

    [Fact]
    public void Ids_on_an_index_type_without_ids_fail_in_faiss_without_changing_it()
    {
        AssertRejected<FaissException>(() => _index.AddWithIds(TestData.Uniform(2, D, seed: 5), [100, 101]), "add_with_ids");
    }

    [Fact]
    public void Search_parameters_the_index_type_has_no_use_for_are_rejected()
    {
        AssertRejected<ArgumentException>(() => _index.Search(_queries, 1, new FaissSearchParameters { NProbe = 4 }), "IVF");
        AssertRejected<ArgumentException>(() => _index.Search(_queries, 1, new FaissSearchParameters { EfSearch = 4 }), "HNSW");
        using var ivf = FaissIndex.Create(D, "IVF4,Flat");
        ivf.Train(TestData.Blobs(200, D, 4, seed: 6));
        AssertRejected<ArgumentOutOfRangeException>(ivf, () => ivf.Search(_queries, 1, new FaissSearchParameters { NProbe = 0 }), "NProbe");
    }

    [Theory]
    [InlineData("IVF16,Flat")]
    [InlineData("IVF8,PQ4np")] // "np": no polysemous training, which takes seconds
    [InlineData("PQ4np")]
    public void An_untrained_index_refuses_add_and_search(string factory)
    {
        using var untrained = FaissIndex.Create(D, factory);
        Assert.False(untrained.IsTrained);

        AssertRejected<InvalidOperationException>(untrained, () => untrained.Add(_queries), "not trained");
        AssertRejected<InvalidOperationException>(untrained, () => untrained.Search(_queries, 1), "not trained");

        untrained.Train(TestData.Blobs(2000, D, 16, seed: 7));
        untrained.Add(_queries);
        Assert.Equal(3, untrained.Count);
    }

    [Fact]
    public void Training_on_too_few_points_fails_in_faiss_and_leaves_the_index_untrained()
    {
        using var ivf = FaissIndex.Create(D, "IVF16,Flat");
        AssertRejected<FaissException>(ivf, () => ivf.Train(TestData.Uniform(5, D, seed: 8)), "training points");
        Assert.False(ivf.IsTrained);
    }

    [Theory]
    [InlineData("")]
    [InlineData("NoSuchIndex")]
    [InlineData("IVF,Flat")]
    [InlineData("PQ3")] // 8 is not a multiple of 3
    public void Unknown_factory_strings_are_rejected(string factory)
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => FaissIndex.Create(D, factory));
        Assert.Equal("description", error.ParamName);
    }

    [Fact]
    public void A_non_positive_dimension_is_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => FaissIndex.Create(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => FaissIndex.Create(8, "Flat", (FaissMetric)7));
    }

    [Fact]
    public void Reconstructing_an_unknown_id_is_rejected()
    {
        AssertRejected<KeyNotFoundException>(() => _index.Reconstruct(50), "50");
        AssertRejected<KeyNotFoundException>(() => _index.Reconstruct(-1), "-1");
        using var mapped = FaissIndex.Create(D, "IDMap2,Flat");
        mapped.AddWithIds(TestData.Uniform(2, D, seed: 9), [10, 20]);
        AssertRejected<KeyNotFoundException>(mapped, () => mapped.Reconstruct(15), "15");
    }

    [Fact]
    public void Retraining_an_index_that_holds_vectors_is_refused()
    {
        AssertRejected<InvalidOperationException>(() => _index.Train(_queries), "retraining");
    }

    [Fact]
    public void Per_call_parameters_out_of_range_are_rejected()
    {
        using var hnsw = FaissIndex.Create(D, "HNSW8");
        hnsw.Add(TestData.Uniform(20, D, seed: 14));
        AssertRejected<ArgumentOutOfRangeException>(hnsw, () => hnsw.Search(_queries, 1, new FaissSearchParameters { EfSearch = FaissIndex.MaxEfSearch + 1 }), "EfSearch");
        AssertRejected<ArgumentException>(hnsw, () => hnsw.RangeSearch(_queries, 1f, new FaissSearchParameters { EfSearch = 8 }), "range search");
        Assert.Throws<ArgumentOutOfRangeException>(() => FaissLibrary.ThreadCount = (4 * Environment.ProcessorCount) + 1);
    }

    [Fact]
    public void Removing_from_an_id_map_over_ivf_is_refused_because_faiss_would_corrupt_it()
    {
        using var mapped = FaissIndex.Create(D, "IDMap,IVF4,Flat");
        var vectors = TestData.Blobs(200, D, 4, seed: 15);
        mapped.Train(vectors);
        mapped.AddWithIds(vectors, [.. Enumerable.Range(0, 200).Select(i => 1000L + i)]);
        AssertRejected<FaissException>(mapped, () => mapped.Remove([1000, 1001]), "IVF types take ids themselves");

        using var ivf = FaissIndex.Create(D, "IVF4,Flat"); // IVF keeps caller ids itself, and removes them
        ivf.Train(vectors);
        ivf.AddWithIds(vectors, [.. Enumerable.Range(0, 200).Select(i => 1000L + i)]);
        Assert.Equal(2, ivf.Remove([1000, 1001]));
        var result = ivf.Search(vectors.AsSpan(2 * D, D), 1, new FaissSearchParameters { NProbe = 4 });
        Assert.Equal(1002, result.Labels[0]);
    }

    [Fact]
    public void Removing_from_an_index_type_that_cannot_remove_fails_without_changing_it()
    {
        using var hnsw = FaissIndex.Create(D, "HNSW8");
        hnsw.Add(TestData.Uniform(20, D, seed: 10));
        AssertRejected<FaissException>(hnsw, () => hnsw.Remove([1, 2]), "not implemented");
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("truncated")]
    [InlineData("trailing")]
    [InlineData("empty")]
    public void Corrupt_serialized_bytes_are_rejected(string corruption)
    {
        var bytes = _index.Serialize();
        byte[] bad = corruption switch
        {
            "garbage" => TestData.Uniform(64, 4, seed: 11).Select(f => (byte)(f * 100)).ToArray(),
            "truncated" => bytes[..(bytes.Length / 2)],
            "trailing" => [.. bytes, 1, 2, 3],
            _ => [],
        };

        if (corruption == "empty")
        {
            Assert.Throws<ArgumentException>(() => FaissIndex.Deserialize(bad));
        }
        else
        {
            Assert.Throws<InvalidDataException>(() => FaissIndex.Deserialize(bad));
        }
    }

    [Fact]
    public void Missing_and_corrupt_index_files_are_rejected()
    {
        var folder = Directory.CreateTempSubdirectory("ovf-files-").FullName;
        try
        {
            Assert.Throws<FileNotFoundException>(() => FaissIndex.Load(Path.Combine(folder, "missing.faiss")));
            var corrupt = Path.Combine(folder, "corrupt.faiss");
            File.WriteAllBytes(corrupt, [1, 2, 3, 4, 5, 6, 7, 8]);
            Assert.Throws<InvalidDataException>(() => FaissIndex.Load(corrupt));

            var target = Path.Combine(folder, "index.faiss");
            _index.Save(target);
            Assert.Throws<IOException>(() => _index.Save(Path.Combine(folder, "no-such-folder", "index.faiss")));
            using var loaded = FaissIndex.Load(target);
            Assert.Equal(_index.Serialize(), loaded.Serialize());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Use_after_dispose_is_rejected()
    {
        var index = FaissIndex.Create(D);
        index.Add(_queries);
        index.Dispose();
        index.Dispose(); // idempotent

        Assert.Throws<ObjectDisposedException>(() => index.Count);
        Assert.Throws<ObjectDisposedException>(() => index.Add(_queries));
        Assert.Throws<ObjectDisposedException>(() => index.Search(_queries, 1));
        Assert.Throws<ObjectDisposedException>(() => index.RangeSearch(_queries, 1f));
        Assert.Throws<ObjectDisposedException>(() => index.Remove([0]));
        Assert.Throws<ObjectDisposedException>(() => index.Reconstruct(0));
        Assert.Throws<ObjectDisposedException>(() => index.Serialize());
        Assert.Contains("disposed", index.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void KMeans_rejects_bad_k_and_options()
    {
        var x = TestData.Uniform(20, D, seed: 12);
        Assert.Throws<ArgumentOutOfRangeException>(() => FaissClustering.KMeans(x, D, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => FaissClustering.KMeans(x, D, 21));
        Assert.Throws<ArgumentOutOfRangeException>(() => FaissClustering.KMeans(x, D, 2, new FaissKMeansOptions { Iterations = 0 }));
        Assert.Throws<ArgumentException>(() => FaissClustering.KMeans(x, D, 2, new FaissKMeansOptions { InitialCentroids = new float[D] }));
        Assert.Throws<ArgumentException>(() => FaissClustering.KMeans(x, D + 1, 2));
    }

    public void Dispose() => _index.Dispose();

    private void AssertRejected<TException>(Action act, string messagePart)
        where TException : Exception => AssertRejected<TException>(_index, act, messagePart);

    private static void AssertRejected<TException>(FaissIndex index, Action act, string messagePart)
        where TException : Exception
    {
        var before = index.Serialize();
        var count = index.Count;

        var error = Assert.Throws<TException>(act);

        Assert.Contains(messagePart, error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(count, index.Count);
        Assert.Equal(before, index.Serialize());
    }
}
