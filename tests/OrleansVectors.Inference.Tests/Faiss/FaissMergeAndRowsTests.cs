namespace OrleansVectors.Inference.Tests.Faiss;

/// <summary>Reading stored rows back in order, merging indexes, serializing with headroom and reading from a stream.</summary>
public sealed class FaissMergeAndRowsTests
{
    private const int D = 8;

    [Theory]
    [InlineData("IDMap,Flat")]
    [InlineData("IDMap2,Flat")]
    [InlineData("IDMap,SQ8")]
    public void Merged_id_map_indexes_search_as_one_index_over_all_vectors(string factory)
    {
        var vectors = TestData.Uniform(600, D, seed: 1);
        using var a = FaissIndex.Create(D, factory);
        using var b = FaissIndex.Create(D, factory);
        using var all = FaissIndex.Create(D, factory);
        foreach (var index in new[] { a, b, all })
        {
            index.Train(vectors);
        }

        a.AddWithIds(vectors.AsSpan(0, 400 * D), Ids(0, 400));
        b.AddWithIds(vectors.AsSpan(400 * D), Ids(400, 200));
        all.AddWithIds(vectors, Ids(0, 600));

        a.MergeFrom(b);

        Assert.Equal(600, a.Count);
        Assert.Equal(0, b.Count);
        var queries = TestData.Uniform(20, D, seed: 2);
        Assert.Equal(all.Search(queries, 5).Labels, a.Search(queries, 5).Labels);
    }

    [Fact]
    public void Rows_come_back_in_storage_order_with_their_ids()
    {
        var vectors = TestData.Uniform(50, D, seed: 3);
        using var mapped = FaissIndex.Create(D, "IDMap,Flat");
        mapped.AddWithIds(vectors, Ids(1000, 50));
        var ids = new long[10];
        var rows = new float[10 * D];

        mapped.ReadRows(20, ids, rows);

        Assert.Equal(Ids(1020, 10), ids);
        Assert.Equal(vectors.AsSpan(20 * D, 10 * D).ToArray(), rows);

        using var plain = FaissIndex.Create(D);
        plain.Add(vectors);
        plain.ReadRows(45, ids.AsSpan(0, 5), rows.AsSpan(0, 5 * D));
        Assert.Equal(Ids(45, 5), ids[..5]);
        Assert.Throws<ArgumentOutOfRangeException>(() => plain.ReadRows(46, ids.AsSpan(0, 5), rows.AsSpan(0, 5 * D)));
        Assert.Throws<ArgumentException>(() => plain.ReadRows(0, ids.AsSpan(0, 5), rows));
    }

    [Fact]
    public void Unmergeable_indexes_are_refused_and_left_as_they_were()
    {
        var vectors = TestData.Uniform(300, D, seed: 4);
        using var a = FaissIndex.Create(D, "IVF4,Flat");
        using var b = FaissIndex.Create(D, "IVF4,Flat");
        a.Train(vectors);
        b.Train(TestData.Uniform(300, D, seed: 5)); // another quantizer
        a.Add(vectors);
        b.Add(vectors);
        Assert.Throws<FaissException>(() => a.MergeFrom(b));
        Assert.Equal(300, a.Count);
        Assert.Equal(300, b.Count);

        using var other = FaissIndex.Create(D + 1);
        Assert.Throws<ArgumentException>(() => a.MergeFrom(other));
        Assert.Throws<ArgumentException>(() => a.MergeFrom(a));

        // IVF lists cannot be read back by position (no direct map)
        Assert.Throws<FaissException>(() => a.ReadRows(0, new long[2], new float[2 * D]));
    }

    [Fact]
    public void A_serialized_view_holds_the_serialized_bytes_and_pins_the_index_until_disposed()
    {
        var index = FaissIndex.Create(D, "IDMap,Flat");
        index.AddWithIds(TestData.Uniform(1000, D, seed: 6), Ids(100, 1000));
        var plain = index.Serialize();
        var view = index.OpenSerializedView();
        Assert.Equal(plain.Length, view.Length);
        Assert.Equal(plain, view.Segments.SelectMany(s => s.ToArray()).ToArray());
        Assert.Contains(view.Segments, s => s.Length >= 1000 * D * sizeof(float)); // the vectors, where faiss keeps them

        // searches go on; changes wait for the view
        Assert.Equal(100, index.Search(TestData.Uniform(1, D, seed: 6), 1).Labels[0]);
        var refused = Assert.Throws<InvalidOperationException>(() => index.AddWithIds(TestData.Uniform(1, D, seed: 9), [5]));
        Assert.Contains("serialized view", refused.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => index.Remove([100]));

        // disposing the index keeps its memory until the view is done with it
        index.Dispose();
        Assert.Equal(plain, view.Segments.SelectMany(s => s.ToArray()).ToArray());
        view.Dispose();
        view.Dispose();
        Assert.Throws<ObjectDisposedException>(() => index.Serialize());

        using var again = FaissIndex.Deserialize(plain);
        using (again.OpenSerializedView())
        {
        }

        again.AddWithIds(TestData.Uniform(1, D, seed: 9), [5]);
        Assert.Equal(1001, again.Count);
    }

    [Fact]
    public void An_index_read_from_a_stream_consumes_exactly_its_bytes_and_reports_bad_ones()
    {
        using var index = FaissIndex.Create(D, "IDMap,Flat");
        index.AddWithIds(TestData.Uniform(200, D, seed: 7), Ids(5000, 200));
        var bytes = index.Serialize();
        using var stream = new MemoryStream([.. bytes, 1, 2, 3]);

        using (var back = FaissIndex.ReadFrom(stream))
        {
            Assert.Equal(200, back.Count);
            Assert.Equal(bytes.Length, stream.Position); // what follows the index is left for the caller
            var queries = TestData.Uniform(5, D, seed: 8);
            Assert.Equal(index.Search(queries, 3).Labels, back.Search(queries, 3).Labels);
        }

        Assert.Throws<InvalidDataException>(() => FaissIndex.ReadFrom(new MemoryStream(bytes[..(bytes.Length / 2)])));
        Assert.Throws<InvalidDataException>(() => FaissIndex.ReadFrom(new MemoryStream(new byte[64])));
        var failing = Assert.Throws<IOException>(() => FaissIndex.ReadFrom(new FailingStream()));
        Assert.Equal("disk gone", failing.Message);
    }

    private sealed class FailingStream : MemoryStream
    {
        public override int Read(Span<byte> buffer) => throw new IOException("disk gone");
    }

    private static long[] Ids(long first, int count) => [.. Enumerable.Range(0, count).Select(i => first + i)];
}
