namespace OrleansVectors.Inference.Tests.Inference;

public sealed class MatchFinderTests
{
    [Fact]
    public void Similarities_match_at_or_above_and_distances_at_or_below_the_threshold()
    {
        using var query = Golden.Tensor("query");
        using var reference = Golden.Tensor("ref");
        using var paired = reference.narrow(0, 0, 12);
        var cosine = new MatchFinder(new CosineSimilarity(), threshold: 0.3);
        var lp = new MatchFinder(new LpDistance(), threshold: 1.2);

        Assert.Equal(Golden.Bools(Golden.Tensor("match_cosine_0.3")), Flatten(cosine.GetMatchingPairs(query, reference)));
        Assert.Equal(Golden.Bools(Golden.Tensor("match_cosine_0.3_self")), Flatten(cosine.GetMatchingPairs(query)));
        Assert.Equal(Golden.Bools(Golden.Tensor("ismatch_cosine_0.3")), cosine.IsMatchNormalized(query, paired));
        Assert.Equal(Golden.Bools(Golden.Tensor("match_lp_1.2")), Flatten(lp.GetMatchingPairs(query, reference)));
        Assert.Equal(Golden.Bools(Golden.Tensor("ismatch_lp_1.2")), lp.IsMatchNormalized(query, paired));
    }

    [Fact]
    public void Tuples_list_the_true_cells_in_row_major_order()
    {
        using var query = Golden.Tensor("query");
        using var reference = Golden.Tensor("ref");
        var finder = new MatchFinder(new CosineSimilarity(), threshold: 0.3);

        var matrix = finder.GetMatchingPairs(query, reference);
        var tuples = finder.GetMatchTuples(query, reference);

        var expected = new List<(long, long)>();
        for (var i = 0; i < matrix.GetLength(0); i++)
        {
            for (var j = 0; j < matrix.GetLength(1); j++)
            {
                if (matrix[i, j])
                {
                    expected.Add((i, j));
                }
            }
        }

        Assert.NotEmpty(tuples);
        Assert.Equal(expected, tuples);
    }

    [Fact]
    public void A_threshold_given_per_call_overrides_the_default()
    {
        using var query = Golden.Tensor("query");
        var finder = new MatchFinder(new CosineSimilarity(), threshold: 2.0); // nothing reaches a cosine of 2

        Assert.DoesNotContain(true, Flatten(finder.GetMatchingPairs(query)));
        Assert.All(Enumerable.Range(0, 12), i => Assert.True(finder.GetMatchingPairs(query, threshold: 0.999)[i, i]));
    }

    [Fact]
    public void No_threshold_at_all_is_a_clear_error()
    {
        using var query = Golden.Tensor("query");
        var finder = new MatchFinder(new CosineSimilarity());

        Assert.Contains("threshold", Assert.Throws<InvalidOperationException>(() => finder.GetMatchingPairs(query)).Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => finder.IsMatch(query, query));
        Assert.Throws<ArgumentException>(() => finder.IsMatch(query, query, double.NaN));
        Assert.Throws<ArgumentException>(() => new MatchFinder(new CosineSimilarity(), double.PositiveInfinity));
        Assert.Equal(Enumerable.Repeat(true, 12), finder.IsMatch(query, query, threshold: 0.999));
    }

    private static bool[] Flatten(bool[,] matrix) => [.. matrix.Cast<bool>()];
}
