namespace OrleansVectors.Inference.Distances;

/// <summary>
/// Cosine similarity: the dot product of rows normalized to unit L2 norm, in [-1, 1], larger is closer.
/// <see cref="BaseDistance.PairwiseDistance"/> normalizes too (see there), so it is a true cosine for raw inputs as
/// well (identical to the seed's for the normalized embeddings an <see cref="InferenceModel{TInput}"/> produces).
/// </summary>
/// <param name="power">Exponent applied to every similarity (default 1).</param>
public sealed class CosineSimilarity(double power = 1) : DotProductSimilarity(normalizeEmbeddings: true, power);
