using static TorchSharp.torch;

namespace OrleansVectors.Inference.Distances;

/// <summary>
/// Signal-to-noise-ratio distance: the variance of (query − reference) over the variance of the query (unbiased
/// variances over the dimension). Smaller is closer. The matrix form holds a rows × rows × dimension
/// intermediate: wrap it in a <see cref="BatchedDistance"/> for large inputs.
/// </summary>
/// <param name="power">Exponent applied to every distance (default 1).</param>
/// <param name="normalizeEmbeddings">Normalize rows to unit <paramref name="p"/>-norm first (default true, as the seed).</param>
/// <param name="p">The norm rows are normalized by (the seed's <c>p</c>, default 2).</param>
public sealed class SnrDistance(double power = 1, bool normalizeEmbeddings = true, double p = 2)
    : BaseDistance(normalizeEmbeddings, p, power, isInverted: false)
{
    /// <inheritdoc/>
    protected override Tensor ComputeMatrix(Tensor query, Tensor reference) =>
        (query.unsqueeze(1) - reference).var(2) / query.var(1).unsqueeze(1);

    /// <inheritdoc/>
    protected override Tensor ComputePairwise(Tensor query, Tensor reference) =>
        (query - reference).var(1) / query.var(1);
}
