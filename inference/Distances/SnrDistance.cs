using static TorchSharp.torch;

namespace OrleansVectors.Inference.Distances;

/// <summary>
/// Signal-to-noise-ratio distance: the variance of (query − reference) over the variance of the query (unbiased
/// variances over the dimension). Smaller is closer. The matrix form holds a rows × rows × dimension
/// intermediate: wrap it in a <see cref="BatchedDistance"/> for large inputs.
/// </summary>
/// <param name="power">Exponent applied to every distance (default 1).</param>
/// <param name="normalizeEmbeddings">Normalize rows to unit L2 norm first (default true, as the seed).</param>
public sealed class SnrDistance(double power = 1, bool normalizeEmbeddings = true)
    : BaseDistance(normalizeEmbeddings, p: 2, power, isInverted: false)
{
    /// <inheritdoc/>
    protected override Tensor ComputeMatrix(Tensor query, Tensor reference) =>
        (query.unsqueeze(1) - reference).var(2) / query.var(1).unsqueeze(1);

    /// <inheritdoc/>
    protected override Tensor ComputePairwise(Tensor query, Tensor reference) =>
        (query - reference).var(1) / query.var(1);
}
