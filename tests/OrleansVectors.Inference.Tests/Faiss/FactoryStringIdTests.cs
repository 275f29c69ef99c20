namespace OrleansVectors.Inference.Tests.Faiss;

/// <summary>Which factory strings keep caller ids, and the string an index of global ids (a cluster's shard) is built from.</summary>
public sealed class FactoryStringIdTests
{
    private const int D = 64;

    [Theory]
    [InlineData("Flat", "IDMap,Flat")]
    [InlineData("PCA32,Flat", "IDMap,PCA32,Flat")]
    [InlineData("L2norm,HNSW16", "IDMap,L2norm,HNSW16")]
    [InlineData("PQ8np", "IDMap,PQ8np")]
    [InlineData("SQ8", "IDMap,SQ8")]
    [InlineData("IVF64,Flat", "IVF64,Flat")] // the lists store the ids
    [InlineData("OPQ8,IVF64,PQ8np", "OPQ8,IVF64,PQ8np")] // a pre-transform hands ids on to the lists
    [InlineData("IDMap2,Flat", "IDMap2,Flat")]
    [InlineData("IDMap,IVF4,Flat", "IDMap,IVF4,Flat")]
    public void A_string_that_does_not_keep_ids_goes_under_an_id_map_that_wraps_the_whole_index(string factory, string takingIds)
    {
        Assert.Equal(takingIds, FaissFactoryString.TakingIds(factory, D));
        Assert.True(FaissFactoryString.Parse(takingIds, D).TakesIds);

        // the binding finds the id map on the outside: ids are kept through every path
        using var index = FaissIndex.Create(D, takingIds);
        var data = TestData.Blobs(300, D, 4, seed: 5);
        if (!index.IsTrained)
        {
            index.Train(data);
        }

        index.AddWithIds(data, [.. Enumerable.Range(0, 300).Select(i => 10_000L + i)]);
        // (an IVF probes one list by default, which may hold fewer than three: -1 fills the rest)
        var result = index.Search(data.AsSpan(0, 3 * D), 3);
        Assert.All(result.Labels, label => Assert.True(label is -1 or (>= 10_000 and < 10_300), $"label {label}"));
        Assert.All(Enumerable.Range(0, 3), q => Assert.InRange(result.Labels[q * 3], 10_000, 10_299));
    }

    [Theory]
    [InlineData("PCA32,IDMap,Flat", "'IDMap' comes first, before the pre-transforms: it wraps the whole index (as in 'IDMap,PCA32,…')")]
    [InlineData("L2norm,OPQ8,IDMap2,PQ8np", "'IDMap2' comes first, before the pre-transforms: it wraps the whole index (as in 'IDMap2,L2norm,OPQ8,…')")]
    public void An_id_map_after_a_pre_transform_is_refused_naming_where_it_goes(string factory, string reason)
    {
        var error = Assert.Throws<ArgumentException>(() => FaissFactoryString.Parse(factory, D));
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }
}
