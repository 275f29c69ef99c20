using OrleansVectors.Inference.Knn;
using OrleansVectors.Inference.Models;
using static TorchSharp.torch;

namespace OrleansVectors.Inference.Tests.Inference;

/// <summary>
/// Golden outputs of the seed's own code (pytorch-metric-learning run under Debian's python3-torch and
/// python3-faiss by Reference/make_seed_fixtures.py): pairwise distances on raw inputs, the distances' members,
/// is_match, lists, padding of short references and run_pca.
/// </summary>
public sealed class SeedSemanticsTests
{
    private static readonly Dictionary<string, Func<BaseDistance>> Configs = new()
    {
        ["cosine"] = () => new CosineSimilarity(),
        ["cosine_p1"] = () => new CosineSimilarity(p: 1),
        ["dot"] = () => new DotProductSimilarity(),
        ["dot_p1"] = () => new DotProductSimilarity(p: 1),
        ["dot_raw"] = () => new DotProductSimilarity(normalizeEmbeddings: false),
        ["lp"] = () => new LpDistance(),
        ["lp_raw_p1"] = () => new LpDistance(p: 1, normalizeEmbeddings: false),
        ["lp_pow2"] = () => new LpDistance(power: 2),
        ["lp_raw_pow2"] = () => new LpDistance(power: 2, normalizeEmbeddings: false),
        ["snr"] = () => new SnrDistance(),
        ["snr_p1"] = () => new SnrDistance(p: 1),
    };

    public static TheoryData<string> Names() => [.. Configs.Keys];

    [Theory]
    [MemberData(nameof(Names))]
    public void Pairwise_distance_matrix_and_members_are_the_seeds_on_raw_inputs(string name)
    {
        var distance = Configs[name]();
        using var x = Golden.Seed("pair_x");
        using var y = Golden.Seed("pair_y");
        using var q = Golden.Seed("mat_q");
        using var r = Golden.Seed("mat_r");
        using var matrix = distance.Compute(q, r);

        Golden.AssertClose(Golden.Seed($"pairwise_{name}"), distance.PairwiseDistance(x, y));
        Golden.AssertClose(Golden.Seed($"matrix_{name}"), matrix);
        Golden.AssertClose(Golden.Seed($"norm_{name}"), distance.GetNorm(q));
        Golden.AssertClose(Golden.Seed($"normalized_{name}"), distance.MaybeNormalize(q));
        Golden.AssertClose(Golden.Seed($"smallest_{name}"), distance.SmallestDist(matrix));
        Golden.AssertClose(Golden.Seed($"largest_{name}"), distance.LargestDist(matrix));
        Golden.AssertClose(Golden.Seed($"margin_{name}"), distance.Margin(Golden.Seed("margin_a"), Golden.Seed("margin_b")));
    }

    [Theory]
    [InlineData("cosine", 0.3)]
    [InlineData("lp", 1.0)]
    [InlineData("lp_raw_pow2", 20.0)]
    [InlineData("dot_raw", 1.0)]
    public void Is_match_compares_raw_pairs_and_one_pair_is_one_bool(string name, double threshold)
    {
        var finder = new MatchFinder(Configs[name](), threshold);
        using var x = Golden.Seed("pair_x");
        using var y = Golden.Seed("pair_y");
        Assert.Equal(Golden.Bools(Golden.Seed($"is_match_{name}")), finder.IsMatch(x, y));
        Assert.Equal(Golden.Bools(Golden.Seed($"is_match_single_{name}"))[0], finder.IsSingleMatch(x.narrow(0, 0, 1), y.narrow(0, 0, 1)));
        Assert.Throws<ArgumentException>(() => finder.IsSingleMatch(x, y));
    }

    [Theory]
    [InlineData("cosine", 0.2)]
    [InlineData("lp", 1.2)]
    public void Matching_pairs_and_their_tuples_are_the_seeds(string name, double threshold)
    {
        var finder = new MatchFinder(Configs[name](), threshold);
        using var q = Golden.Seed("mat_q");
        using var r = Golden.Seed("mat_r");
        var matches = finder.GetMatchingPairs(q, r);
        Assert.Equal(Golden.Bools(Golden.Seed($"matching_{name}")), matches.Cast<bool>());
        Assert.Equal(Golden.Longs(Golden.Seed($"matching_tuples_{name}")), finder.GetMatchTuples(q, r).SelectMany(t => new[] { t.Query, t.Reference }));
    }

    [Fact]
    public void FaissKnn_pads_a_short_reference_with_minus_one_at_float_max()
    {
        using var query = Golden.Seed("knn_q");
        using var reference = Golden.Seed("knn_ref");
        using var knn = new FaissKnn();
        using var padded = knn.Search(query, 5, reference);
        Assert.Equal(Golden.Longs(Golden.Seed("knn_pad_I")), Golden.Longs(padded.Indices));
        Golden.AssertClose(Golden.Seed("knn_pad_D"), padded.Distances);
        Assert.Equal(float.MaxValue, padded.Distances[0, 4].item<float>());

        using var same = knn.Search(reference, 5, reference, referenceIncludesQuery: true);
        Assert.Equal(Golden.Longs(Golden.Seed("knn_same_I")), Golden.Longs(same.Indices));
        Golden.AssertClose(Golden.Seed("knn_same_D"), same.Distances);
    }

    [Fact]
    public void Run_pca_is_the_seeds()
    {
        using var x = Golden.Seed("pca_x");
        Golden.AssertCloseToScale(Golden.Seed("pca_out3"), InferenceUtils.RunPca(x, 3), relative: 1e-4);
        Golden.AssertCloseToScale(Golden.Seed("pca_out8"), InferenceUtils.RunPca(x, 8), relative: 1e-4);
        Assert.Throws<ArgumentOutOfRangeException>(() => InferenceUtils.RunPca(x, 9));
        Assert.Throws<ArgumentOutOfRangeException>(() => InferenceUtils.RunPca(x, 0));
    }

    [Fact]
    public void Lists_of_tensors_are_stacked_as_the_seeds_process_if_list()
    {
        using var trunk = TorchScriptModel.Load(Golden.PathOf("trunk.pt"), CPU);
        using var model = new InferenceModel(trunk, dataDevice: CPU);
        using var input = Golden.Seed("list_in");
        List<Tensor> rows = [.. Enumerable.Range(0, 5).Select(i => input[i])];

        Golden.AssertClose(Golden.Seed("list_embeddings"), model.GetEmbeddings(rows), relative: 1e-4);
        Assert.Equal(Golden.Bools(Golden.Seed("list_matches")), model.GetMatches(rows).Cast<bool>());
        Assert.Equal(Golden.Bools(Golden.Seed("list_is_match")), model.IsMatch(rows[..3], rows[2..]));
    }

    [Fact]
    public void The_README_maps_every_faiss_Kmeans_keyword_the_seed_can_pass()
    {
        using var manifest = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(Golden.SeedFolder, "manifest.json")));
        var keywords = manifest.RootElement.GetProperty("_kmeans_kwargs").EnumerateArray().Select(k => k.GetProperty("name").GetString()!).ToList();
        var readme = File.ReadAllText(Path.Combine(Repository.Root, "README.md"));
        Assert.NotEmpty(keywords);
        Assert.All(keywords, keyword => Assert.Contains($"`{keyword}`", readme, StringComparison.Ordinal));
    }
}
