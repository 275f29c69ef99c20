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
    /// The distance between each row of <paramref name="query"/> and the same row of <paramref name="reference"/>,
    /// with the same normalization and power as <see cref="Compute"/>, so that a pair matches in
    /// <see cref="MatchFinder.IsMatch"/> exactly when it does in <see cref="MatchFinder.GetMatchingPairs"/>.
    /// (The seed's pairwise_distance applies neither; for normalized embeddings and power 1 the two agree.)
    /// </summary>
    /// <exception cref="ArgumentException">Bad inputs, or the two have different shapes.</exception>
    public Tensor PairwiseDistance(Tensor query, Tensor reference)
    {
        TensorChecks.RequireEmbeddings(query);
        TensorChecks.RequireEmbeddings(reference, query.shape[1]);
        if (query.shape[0] != reference.shape[0])
        {
            throw new ArgumentException($"Paired rows are needed: the query has {query.shape[0]} rows, the reference {reference.shape[0]}.", nameof(reference));
        }

        using var scope = torch.NewDisposeScope();
        return ApplyPower(ComputePairwise(MaybeNormalize(query), MaybeNormalize(reference))).MoveToOuterDisposeScope();
    }

    /// <summary>The matrix of distances between normalized (where configured) rows.</summary>
    protected abstract Tensor ComputeMatrix(Tensor query, Tensor reference);

    /// <summary>The distances between paired, normalized (where configured) rows.</summary>
    protected abstract Tensor ComputePairwise(Tensor query, Tensor reference);

    /// <summary>Normalizes rows to unit <see cref="P"/>-norm.</summary>
    protected virtual Tensor Normalize(Tensor embeddings) => nn.functional.normalize(embeddings, P, 1);

    private Tensor MaybeNormalize(Tensor embeddings) => NormalizeEmbeddings ? Normalize(embeddings) : embeddings;

    private Tensor ApplyPower(Tensor distances) => Power == 1 ? distances : distances.pow(Power);
}
