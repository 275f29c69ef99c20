namespace OrleansVectors.Inference.Distances;

/// <summary>
/// Cosine similarity, as the seed's: the dot product of rows normalized to unit norm (it always normalizes), in
/// [-1, 1] for the L2 norm, larger is closer. As in the seed, <see cref="BaseDistance.PairwiseDistance"/> takes the
/// rows as given — the raw dot product for rows that are not unit length; <see cref="BaseDistance.ComputePairs"/>
/// is the true cosine of paired rows.
/// </summary>
/// <param name="power">Exponent applied to every similarity (default 1).</param>
/// <param name="p">The norm rows are normalized by (the seed's <c>p</c>, default 2).</param>
public sealed class CosineSimilarity(double power = 1, double p = 2) : DotProductSimilarity(normalizeEmbeddings: true, power, p);
