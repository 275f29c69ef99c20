using OrleansVectors.Inference.Knn;
using static TorchSharp.torch;

namespace OrleansVectors.Inference.Tests.Inference;

/// <summary>FaissKnn, CustomKnn and FaissKMeans against the golden outputs of the seed's semantics.</summary>
public sealed class KnnParityTests
{
    [Fact]
    public void FaissKnn_with_a_separate_reference_matches_the_seed()
    {
        using var knn = new FaissKnn();
        using var result = knn.Search(Golden.Tensor("query"), 5, Golden.Tensor("ref"));

        AssertSame("faissknn_l2", result);
        Assert.Null(knn.Count); // reset after, as the seed's default
    }

    [Fact]
    public void FaissKnn_drops_each_rows_own_index_when_the_reference_includes_the_query()
    {
        using var reference = Golden.Tensor("ref");
        using var knn = new FaissKnn();
        using var result = knn.Search(reference, 5, reference, referenceIncludesQuery: true);

        AssertSame("faissknn_l2_same", result);
        Assert.Equal(new long[] { 20, 5 }, result.Indices.shape);
        var indices = result.IndicesArray();
        Assert.All(Enumerable.Range(0, 20), row => Assert.DoesNotContain((long)row, Enumerable.Range(0, 5).Select(c => indices[row, c])));
    }

    [Fact]
    public void FaissKnn_drops_the_last_column_of_rows_that_lack_their_own_index()
    {
        // inner product on raw vectors of growing norm: larger rows outrank a row's own index
        using var scaled = Golden.Tensor("scaled");
        using var knn = new FaissKnn(indexInit: d => FaissIndex.Create(d, "Flat", FaissMetric.InnerProduct));
        using var result = knn.Search(scaled, 4, scaled, referenceIncludesQuery: true);

        AssertSame("faissknn_ip_same", result);
    }

    [Fact]
    public void CustomKnn_matches_the_seed_unbatched_and_batched()
    {
        using var query = Golden.Tensor("query");
        using var reference = Golden.Tensor("ref");
        using var scaled = Golden.Tensor("scaled");

        using (var cosine = new CustomKnn(new CosineSimilarity()).Search(query, 5, reference))
        {
            AssertSame("customknn_cosine", cosine);
        }

        using (var lpBatched = new CustomKnn(new LpDistance(), batchSize: 5).Search(query, 5, reference))
        {
            AssertSame("customknn_lp_batched", lpBatched);
        }

        using (var dotSelf = new CustomKnn(new DotProductSimilarity(normalizeEmbeddings: false)).Search(scaled, 4, scaled, referenceIncludesQuery: true))
        {
            AssertSame("customknn_dot_same", dotSelf);
        }

        using var dotSelfBatched = new CustomKnn(new DotProductSimilarity(normalizeEmbeddings: false), batchSize: 3).Search(scaled, 4, scaled, referenceIncludesQuery: true);
        AssertSame("customknn_dot_same_batched", dotSelfBatched);
    }

    [Fact]
    public void CustomKnn_and_FaissKnn_agree_on_l2()
    {
        using var query = Golden.Tensor("query");
        using var reference = Golden.Tensor("ref");
        using var faiss = new FaissKnn();
        using var viaFaiss = faiss.Search(query, 7, reference);
        using var viaTorch = new CustomKnn(new LpDistance(power: 2, normalizeEmbeddings: false), batchSize: 4).Search(query, 7, reference);

        Assert.Equal(Golden.Longs(viaFaiss.Indices), Golden.Longs(viaTorch.Indices));
        Golden.AssertClose(viaFaiss.Distances, viaTorch.Distances, 1e-4);
    }

    [Fact]
    public void FaissKMeans_matches_faiss_Kmeans()
    {
        using var x = Golden.Tensor("kmeans_x");
        var kmeans = new FaissKMeans(new FaissKMeansOptions { Iterations = 20, Seed = 123 });

        using var assignments = kmeans.Cluster(x, 4);

        Assert.Equal(ScalarType.Int64, assignments.dtype);
        Assert.Equal(Golden.Longs(Golden.Tensor("kmeans_assignments")), Golden.Longs(assignments));
        var direct = FaissClustering.KMeans(Golden.Floats(x), 8, 4, kmeans.Options);
        ParityAssert.AllClose(Golden.Floats(Golden.Tensor("kmeans_centroids")), direct.Centroids, 1e-4, "centroids");
    }

    [Fact]
    public void Knn_functions_reject_bad_k_and_bad_embeddings()
    {
        using var query = Golden.Tensor("query");
        using var reference = Golden.Tensor("ref");
        using var ints = ones(3, 8, ScalarType.Int32);
        using var nan = full(3, 8, float.NaN);
        using var faiss = new FaissKnn();
        var custom = new CustomKnn(new CosineSimilarity());

        foreach (IKnnFunction knn in new IKnnFunction[] { faiss, custom })
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => knn.Search(query, 0, reference));
            if (knn is CustomKnn)
            {
                // the seed's CustomKNN takes torch.topk, which refuses a k above the reference's size (FaissKnn pads: SeedSemanticsTests)
                Assert.Throws<ArgumentOutOfRangeException>(() => knn.Search(query, 21, reference));
                Assert.Throws<ArgumentOutOfRangeException>(() => knn.Search(reference, 20, reference, referenceIncludesQuery: true));
            }

            Assert.Throws<ArgumentException>(() => knn.Search(ints, 1, reference));
            Assert.Throws<ArgumentException>(() => knn.Search(nan, 1, reference));
            Assert.Throws<ArgumentException>(() => knn.Search(query, 1, reference.narrow(1, 0, 7)));
        }

        Assert.Throws<ArgumentException>(() => new FaissKnn(gpus: []));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CustomKnn(new CosineSimilarity(), batchSize: 0));
    }

    [Fact]
    public void FaissKnn_without_an_index_fails_clearly_and_keeps_a_trained_one_between_searches()
    {
        using var query = Golden.Tensor("query");
        using var reference = Golden.Tensor("ref");
        using var knn = new FaissKnn(resetBefore: false, resetAfter: false);

        Assert.Contains("no index", Assert.Throws<InvalidOperationException>(() => knn.Search(query, 3)).Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => knn.Add(reference));
        Assert.Throws<InvalidOperationException>(() => knn.Save(Path.GetTempFileName()));

        knn.Train(reference);
        using (var first = knn.Search(query, 5))
        {
            AssertSame("faissknn_l2", first);
        }

        knn.Add(query);
        Assert.Equal(32, knn.Count);
        using var second = knn.Search(query, 1);
        Assert.Equal(Enumerable.Range(20, 12).Select(i => (long)i), Golden.Longs(second.Indices)); // each query now finds itself
    }

    private static void AssertSame(string name, KnnResult result)
    {
        Assert.Equal(Golden.Longs(Golden.Tensor(name + "_I")), Golden.Longs(result.Indices));
        Golden.AssertClose(Golden.Tensor(name + "_D"), result.Distances);
    }
}
