using OrleansVectors.Inference.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansVectors.Inference.Distances;

/// <summary>
/// A distance between embeddings, as the seed's <c>BaseDistance</c>: rows are optionally normalized (p-norm),
/// the query × reference matrix is computed, and raised to <see cref="Power"/> when it is not 1.
/// </summary>
/// <remarks>
/// Stateless and safe to share between threads. Inputs are 2-D floating-point tensors (rows × dimension) on any
/// one device; results are on that device. Gradients flow unless the caller disables them.
/// </remarks>
public abstract class BaseDistance
{
    /// <summary>Creates a distance.</summary>
    /// <param name="normalizeEmbeddings">Normalize rows to unit <paramref name="p"/>-norm first.</param>
    /// <param name="p">The norm's order, greater than 0.</param>
    /// <param name="power">Exponent applied to every distance; finite.</param>
    /// <param name="isInverted">True when larger means closer (similarities).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="p"/> is not positive or <paramref name="power"/> is not finite.</exception>
    protected BaseDistance(bool normalizeEmbeddings, double p, double power, bool isInverted)
    {
        if (!(p > 0) || double.IsInfinity(p))
        {
            throw new ArgumentOutOfRangeException(nameof(p), p, "The norm order p must be a positive finite number.");
        }

        if (!double.IsFinite(power))
        {
            throw new ArgumentOutOfRangeException(nameof(power), power, "The power must be a finite number.");
        }

        NormalizeEmbeddings = normalizeEmbeddings;
        P = p;
        Power = power;
        IsInverted = isInverted;
    }

    /// <summary>Whether rows are normalized before the distance is computed.</summary>
    public bool NormalizeEmbeddings { get; }

    /// <summary>The norm's order, used for normalization (and by <see cref="LpDistance"/> for the distance).</summary>
    public double P { get; }

    /// <summary>The exponent applied to every distance.</summary>
    public double Power { get; }

    /// <summary>True when larger values mean closer (similarities); false for distances.</summary>
    public bool IsInverted { get; }

    /// <summary>The query × reference matrix of distances (the reference defaults to the query).</summary>
    /// <exception cref="ArgumentException">An input is not a non-empty 2-D floating-point tensor of finite values, or the dimensions differ.</exception>
    public Tensor Compute(Tensor query, Tensor? reference = null)
    {
        TensorChecks.RequireEmbeddings(query);
        if (reference is not null)
        {
            TensorChecks.RequireEmbeddings(reference, query.shape[1]);
        }

        using var scope = torch.NewDisposeScope();
        var q = MaybeNormalize(query);
        var r = reference is null ? q : MaybeNormalize(reference);
        return ApplyPower(ComputeMatrix(q, r)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The seed's <c>pairwise_distance</c>: the distance between each row of <paramref name="query"/> and the same row
    /// of <paramref name="reference"/>, on the rows as given — no normalization and no <see cref="Power"/> (the seed's
    /// <c>forward</c> applies both, its <c>pairwise_distance</c> neither). For the normalized embeddings an
    /// <see cref="InferenceModel{TInput}"/> produces and power 1 it equals the diagonal of <see cref="Compute"/>;
    /// <see cref="ComputePairs"/> is that diagonal for any input.
    /// </summary>
    /// <exception cref="ArgumentException">Bad inputs, or the two have different shapes.</exception>
    public Tensor PairwiseDistance(Tensor query, Tensor reference)
    {
        RequirePairs(query, reference);
        return ComputePairwise(query, reference);
    }

    /// <summary>
    /// The distances of paired rows as <see cref="Compute"/> computes the matrix — normalized where configured, raised
    /// to <see cref="Power"/> — that is, the diagonal of <c>Compute(query, reference)</c> without the rest of the
    /// matrix. Not in the seed; <see cref="MatchFinder.IsMatchNormalized"/> uses it.
    /// </summary>
    /// <exception cref="ArgumentException">Bad inputs, or the two have different shapes.</exception>
    public Tensor ComputePairs(Tensor query, Tensor reference)
    {
        RequirePairs(query, reference);
        using var scope = torch.NewDisposeScope();
        return ApplyPower(ComputePairwise(MaybeNormalize(query), MaybeNormalize(reference))).MoveToOuterDisposeScope();
    }

    /// <summary>The seed's <c>normalize</c>: every slice along <paramref name="dim"/> scaled to unit <see cref="P"/>-norm.</summary>
    public Tensor Normalize(Tensor embeddings, long dim = 1)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        return nn.functional.normalize(embeddings, P, dim);
    }

    /// <summary>The seed's <c>maybe_normalize</c>: <see cref="Normalize"/> when <see cref="NormalizeEmbeddings"/>, else the input itself.</summary>
    public Tensor MaybeNormalize(Tensor embeddings, long dim = 1) => NormalizeEmbeddings ? Normalize(embeddings, dim) : embeddings;

    /// <summary>The seed's <c>get_norm</c>: the <see cref="P"/>-norm of every slice along <paramref name="dim"/>.</summary>
    public Tensor GetNorm(Tensor embeddings, long dim = 1)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        return torch.linalg.vector_norm(embeddings, P, [dim]);
    }

    /// <summary>The seed's <c>smallest_dist</c> over all values: the closest, so the maximum of similarities and the minimum of distances.</summary>
    public Tensor SmallestDist(Tensor values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return IsInverted ? values.max() : values.min();
    }

    /// <summary>The seed's <c>smallest_dist(values, dim)</c>: the closest along <paramref name="dim"/>, with where it is.</summary>
    public (Tensor Values, Tensor Indices) SmallestDist(Tensor values, long dim, bool keepdim = false)
    {
        ArgumentNullException.ThrowIfNull(values);
        return IsInverted ? values.max(dim, keepdim) : values.min(dim, keepdim);
    }

    /// <summary>The seed's <c>largest_dist</c> over all values: the farthest, so the minimum of similarities and the maximum of distances.</summary>
    public Tensor LargestDist(Tensor values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return IsInverted ? values.min() : values.max();
    }

    /// <summary>The seed's <c>largest_dist(values, dim)</c>: the farthest along <paramref name="dim"/>, with where it is.</summary>
    public (Tensor Values, Tensor Indices) LargestDist(Tensor values, long dim, bool keepdim = false)
    {
        ArgumentNullException.ThrowIfNull(values);
        return IsInverted ? values.min(dim, keepdim) : values.max(dim, keepdim);
    }

    /// <summary>The seed's <c>margin(x, y)</c>: how much closer <paramref name="y"/> is than <paramref name="x"/> (x − y for distances, y − x for similarities).</summary>
    public Tensor Margin(Tensor x, Tensor y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        return IsInverted ? y - x : x - y;
    }

    /// <summary>The matrix of distances between rows (normalized by the caller where configured).</summary>
    protected abstract Tensor ComputeMatrix(Tensor query, Tensor reference);

    /// <summary>The distances between paired rows, as given.</summary>
    protected abstract Tensor ComputePairwise(Tensor query, Tensor reference);

    private static void RequirePairs(Tensor query, Tensor reference)
    {
        TensorChecks.RequireEmbeddings(query);
        TensorChecks.RequireEmbeddings(reference, query.shape[1]);
        if (query.shape[0] != reference.shape[0])
        {
            throw new ArgumentException($"Paired rows are needed: the query has {query.shape[0]} rows, the reference {reference.shape[0]}.", nameof(reference));
        }
    }

    private Tensor ApplyPower(Tensor distances) => Power == 1 ? distances : distances.pow(Power);
}
