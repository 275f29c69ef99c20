namespace OrleansVectors.Inference.Tests.Faiss;

/// <summary>
/// Factory strings are parsed and bounded before faiss sees them. The hostile ones below abort, hang or exhaust
/// faiss 1.7.3 when they reach it: were one to slip through, this test process would die, not fail politely.
/// </summary>
public sealed class FaissFactoryStringTests
{
    private const int D = 16;

    [Theory]
    [InlineData("PQ0", "PQ sub-quantizer count (the dimension is 16) must be between 1 and 16; got 0")]
    [InlineData("IVF0,Flat", "IVF list count must be between 1 and 1048576; got 0")]
    [InlineData("IVF20000000,Flat", "IVF list count must be between 1 and 1048576; got 20000000")]
    [InlineData("HNSW0", "HNSW neighbour count must be between 4 and 128; got 0")]
    [InlineData("HNSW1", "HNSW neighbour count must be between 4 and 128; got 1")]
    [InlineData("OPQ0,Flat", "OPQ sub-quantizer count must be between 1 and 16; got 0")]
    [InlineData("PQ4x0", "PQ bits per code must be between 1 and 16; got 0")]
    [InlineData("PQ4x99999999999", "PQ bits per code must be between 1 and 16; got 99999999999")]
    [InlineData("RQ1x0", "'RQ1x0' is not an index type here")]
    [InlineData("NSG0", "'NSG0' is not an index type here")]
    [InlineData("PQ5", "PQ5 needs a dimension divisible by 5; it has 16")]
    [InlineData("PCA32,Flat", "PCA output dimension (the input has 16) must be between 1 and 16; got 32")]
    [InlineData("PCA8,PQ3", "PQ3 needs a dimension divisible by 3; it has 8")]
    [InlineData("IVF8", "'IVF8' takes one encoding after it")]
    [InlineData("IVF8,HNSW32", "'HNSW32' is not an encoding")]
    [InlineData("Flat,Flat", "'Flat' takes nothing after it")]
    [InlineData("IDMap", "it names no index type after its prefixes")]
    [InlineData("IDMap,IDMap,Flat", "'IDMap' is not an index type here")]
    [InlineData("IVF,Flat", "the IVF list count is missing")]
    [InlineData("IVF-1,Flat", "'IVF-1' is not an index type here")]
    [InlineData("IVF８,Flat", "'IVF８' is not an index type here")] // a full-width digit
    [InlineData("Flat\nforged log line", "'Flat\\u000aforged log line' is not one this library builds")]
    [InlineData("PQ4np\n", "'PQ4np\\u000a' is not an encoding")]
    [InlineData("IVF8,PQ4x9", "PQ bits per code must be between 1 and 8; got 9")]
    public void Strings_outside_the_grammar_or_its_bounds_are_refused_before_faiss_sees_them(string factory, string reason)
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => FaissIndex.Create(D, factory));
        Assert.Equal("description", error.ParamName);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Overlong_strings_and_dimensions_are_refused()
    {
        Assert.Contains("at most 256", Assert.Throws<ArgumentException>(() => FaissIndex.Create(D, "L2norm," + string.Concat(Enumerable.Repeat("L2norm,", 40)) + "Flat")).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => FaissIndex.Create(20_000_000, "Flat"));
        Assert.Throws<ArgumentOutOfRangeException>(() => FaissIndex.Create(0, "Flat"));
    }

    [Theory]
    [InlineData("Flat")]
    [InlineData("PQ1")] // polysemous training: seconds
    [InlineData("PQ8np")]
    [InlineData("PQ4x4np")]
    [InlineData("SQ4")]
    [InlineData("SQ6")]
    [InlineData("SQ8")]
    [InlineData("SQfp16")]
    [InlineData("HNSW4")]
    [InlineData("HNSW32")]
    [InlineData("IVF4,Flat")]
    [InlineData("IVF4,PQ4np")]
    [InlineData("IVF4,SQ8")]
    [InlineData("L2norm,Flat")]
    [InlineData("PCA8,Flat")]
    [InlineData("PCAR8,IVF4,Flat")]
    [InlineData("PCAWR8,SQ8")]
    [InlineData("OPQ4,PQ4np")]
    [InlineData("OPQ4_8,IVF4,PQ4np")]
    [InlineData("IDMap,Flat")]
    [InlineData("IDMap2,SQ8")]
    [InlineData("IDMap,IVF4,Flat")]
    public void Every_production_of_the_grammar_builds_trains_adds_and_searches_in_faiss(string factory)
    {
        var layout = FaissFactoryString.Parse(factory, D);
        using var index = FaissIndex.Create(D, factory);
        var data = TestData.Blobs(1000, D, 8, seed: 3);
        if (!index.IsTrained)
        {
            index.Train(data);
        }

        if (layout.HasIdMap)
        {
            index.AddWithIds(data, Enumerable.Range(0, 1000).Select(i => (long)i + 10).ToArray());
        }
        else
        {
            index.Add(data);
        }

        Assert.Equal(1000, index.Count);
        var result = index.Search(data.AsSpan(0, 2 * D), 5);
        Assert.All(result.Labels, label => Assert.InRange(label, -1, 1009));
    }

    [Fact]
    public void The_layout_estimates_memory_from_the_parameters()
    {
        var flat = FaissFactoryString.Parse("Flat", 128);
        Assert.Equal((FaissIndexKind.Flat, 0L, 512L), (flat.Kind, flat.CreateBytes, flat.BytesPerVector));

        var ivf = FaissFactoryString.Parse("IVF1048576,Flat", 128);
        Assert.Equal(FaissIndexKind.Ivf, ivf.Kind);
        Assert.Equal(1 << 20, ivf.Lists);
        Assert.True(ivf.CreateBytes >= (1L << 20) * 128 * sizeof(float), $"{ivf.CreateBytes}");

        var pq = FaissFactoryString.Parse("OPQ16_64,IVF256,PQ16", 128);
        Assert.Equal(64, pq.EncodedDimension);
        Assert.Equal(16 + sizeof(long), pq.BytesPerVector);
        Assert.True(FaissFactoryString.Parse("IDMap,Flat", 128).HasIdMap);
    }
}
