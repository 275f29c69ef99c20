using static TorchSharp.torch;

namespace OrleansVectors.Inference.Distances;

/// <summary>The dot product of (by default normalized) rows: a similarity, larger is closer.</summary>
/// <param name="normalizeEmbeddings">Normalize rows to unit <paramref name="p"/>-norm first (default true, as the seed).</param>
/// <param name="power">Exponent applied to every similarity (default 1).</param>
/// <param name="p">The norm rows are normalized by (the seed's <c>p</c>, default 2).</param>
public class DotProductSimilarity(bool normalizeEmbeddings = true, double power = 1, double p = 2)
    : BaseDistance(normalizeEmbeddings, p, power, isInverted: true)
{
    /// <inheritdoc/>
    protected override Tensor ComputeMatrix(Tensor query, Tensor reference) => matmul(query, reference.t());

    /// <inheritdoc/>
    protected override Tensor ComputePairwise(Tensor query, Tensor reference) => (query * reference).sum(1);
}
