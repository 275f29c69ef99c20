using static TorchSharp.torch;

namespace OrleansVectors.Inference.Distances;

/// <summary>The Lp (Minkowski) distance between (by default normalized) rows: smaller is closer.</summary>
/// <param name="p">The order, greater than 0 (default 2, Euclidean). Rows are normalized to unit p-norm.</param>
/// <param name="power">Exponent applied to every distance (default 1; 2 gives squared Euclidean with p = 2).</param>
/// <param name="normalizeEmbeddings">Normalize rows first (default true, as the seed).</param>
/// <remarks>The pairwise form is torch's <c>pairwise_distance</c>, which adds 1e-6 to each difference, as the seed.</remarks>
public sealed class LpDistance(double p = 2, double power = 1, bool normalizeEmbeddings = true)
    : BaseDistance(normalizeEmbeddings, p, power, isInverted: false)
{
    /// <inheritdoc/>
    protected override Tensor ComputeMatrix(Tensor query, Tensor reference)
    {
        // cdist has no half-precision kernels: compute in float32 and return the input's type, as the seed does
        if (query.dtype is ScalarType.Float16 or ScalarType.BFloat16)
        {
            return cdist(query.to_type(ScalarType.Float32), reference.to_type(ScalarType.Float32), P).to_type(query.dtype);
        }

        return cdist(query, reference, P);
    }

    /// <inheritdoc/>
    protected override Tensor ComputePairwise(Tensor query, Tensor reference) =>
        nn.functional.pairwise_distance(query, reference, P);
}
