using static TorchSharp.torch;

namespace OrleansVectors.Inference.Tests.Inference;

/// <summary>Every distance, with its power and normalization variants, against python3-torch's golden outputs.</summary>
public sealed class DistanceParityTests
{
    public static TheoryData<string> Names => new()
    {
        "cosine", "cosine_power2", "dot", "dot_raw", "lp", "lp_p1", "lp_power2", "lp_raw", "lp_p3_raw", "snr", "snr_raw",
    };

    [Theory]
    [MemberData(nameof(Names))]
    public void Matrix_self_matrix_and_pairwise_match_the_seed(string name)
    {
        var distance = Create(name);
        using var query = Golden.Tensor("query");
        using var reference = Golden.Tensor("ref");
        using var paired = reference.narrow(0, 0, 12);

        using var matrix = distance.Compute(query, reference);
        using var self = distance.Compute(query);
        using var pairwise = distance.ComputePairs(query, paired); // the diagonal of Compute (see SeedSemanticsTests for pairwise_distance)

        Golden.AssertClose(Golden.Tensor($"dist_{name}_mat"), matrix);
        Golden.AssertClose(Golden.Tensor($"dist_{name}_self"), self);
        Golden.AssertClose(Golden.Tensor($"dist_{name}_pairwise"), pairwise);
        Assert.Equal(name.StartsWith("cosine", StringComparison.Ordinal) || name.StartsWith("dot", StringComparison.Ordinal), distance.IsInverted);
    }

    [Fact]
    public void Lp_distance_works_in_half_precision()
    {
        using var query = Golden.Tensor("query");
        using var reference = Golden.Tensor("ref");
        using var half = new LpDistance().Compute(query.to_type(ScalarType.Float16), reference.to_type(ScalarType.Float16));

        Assert.Equal(ScalarType.Float16, half.dtype);
        Golden.AssertClose(Golden.Tensor("dist_lp_mat"), half, relative: 5e-3);
    }

    [Fact]
    public void Batched_distance_hands_every_block_to_the_callback()
    {
        using var query = Golden.Tensor("query");
        using var reference = Golden.Tensor("ref");
        var blocks = new List<(long Start, long End, float[] Values)>();
        var batched = new BatchedDistance(new LpDistance(), (block, s, e) => blocks.Add((s, e, Golden.Floats(block))), batchSize: 5);

        batched.Compute(query, reference);

        Assert.Equal(new[] { (0L, 5L), (5L, 10L), (10L, 12L) }, blocks.Select(b => (b.Start, b.End)));
        using var whole = new LpDistance().Compute(query, reference);
        Assert.Equal(Golden.Floats(whole), blocks.SelectMany(b => b.Values));
        Assert.False(batched.IsInverted);
        Assert.Throws<InvalidOperationException>(() => new BatchedDistance(new LpDistance()).Compute(query));
    }

    [Fact]
    public void Inputs_that_are_not_2d_non_empty_finite_floats_are_rejected()
    {
        var distance = new CosineSimilarity();
        using var oneD = rand(8);
        using var threeD = rand(2, 3, 8);
        using var ints = ones(4, 8, ScalarType.Int64);
        using var empty = zeros(0, 8);
        using var nan = full(4, 8, float.NaN);
        using var good = rand(4, 8);
        using var otherDimension = rand(4, 7);
        using var otherRows = rand(5, 8);

        Assert.Contains("2-D", Assert.Throws<ArgumentException>(() => distance.Compute(oneD)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => distance.Compute(good, threeD));
        Assert.Contains("floating point", Assert.Throws<ArgumentException>(() => distance.Compute(ints)).Message, StringComparison.Ordinal);
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => distance.Compute(empty)).Message, StringComparison.Ordinal);
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => distance.Compute(nan)).Message, StringComparison.Ordinal);
        Assert.Contains("Dimension mismatch", Assert.Throws<ArgumentException>(() => distance.Compute(good, otherDimension)).Message, StringComparison.Ordinal);
        Assert.Contains("Paired rows", Assert.Throws<ArgumentException>(() => distance.PairwiseDistance(good, otherRows)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new LpDistance(p: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LpDistance(power: double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BatchedDistance(distance, batchSize: 0));
    }

    internal static BaseDistance Create(string name) => name switch
    {
        "cosine" => new CosineSimilarity(),
        "cosine_power2" => new CosineSimilarity(power: 2),
        "dot" => new DotProductSimilarity(),
        "dot_raw" => new DotProductSimilarity(normalizeEmbeddings: false),
        "lp" => new LpDistance(),
        "lp_p1" => new LpDistance(p: 1),
        "lp_power2" => new LpDistance(power: 2),
        "lp_raw" => new LpDistance(normalizeEmbeddings: false),
        "lp_p3_raw" => new LpDistance(p: 3, normalizeEmbeddings: false),
        "snr" => new SnrDistance(),
        "snr_raw" => new SnrDistance(normalizeEmbeddings: false),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
    };
}
