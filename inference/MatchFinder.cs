using OrleansVectors.Inference.Distances;
using OrleansVectors.Inference.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansVectors.Inference;

/// <summary>
/// Decides which embeddings match under a distance and a threshold, as the seed's <c>MatchFinder</c>: for a
/// similarity (<see cref="BaseDistance.IsInverted"/>) a pair matches when its value is at least the threshold,
/// for a distance when it is at most the threshold. Stateless and safe to share between threads.
/// </summary>
public sealed class MatchFinder
{
    /// <summary>Creates a match finder.</summary>
    /// <param name="distance">The distance or similarity to compare with.</param>
    /// <param name="threshold">The default threshold, in the distance's units; null to require one per call.</param>
    /// <exception cref="ArgumentException"><paramref name="threshold"/> is NaN or infinite.</exception>
    public MatchFinder(BaseDistance distance, double? threshold = null)
    {
        ArgumentNullException.ThrowIfNull(distance);
        if (threshold is { } value && !double.IsFinite(value))
        {
            throw new ArgumentException($"The threshold must be a finite number; got {value}.", nameof(threshold));
        }

        Distance = distance;
        Threshold = threshold;
    }

    /// <summary>The distance compared with.</summary>
    public BaseDistance Distance { get; }

    /// <summary>The default threshold, or null.</summary>
    public double? Threshold { get; }

    /// <summary>
    /// Which query rows match which reference rows: element [i, j] is true when query i matches reference j. The
    /// reference defaults to the query (so the diagonal compares each row with itself).
    /// </summary>
    /// <param name="query">Query embeddings (rows × dimension).</param>
    /// <param name="reference">Reference embeddings, or null for the query itself.</param>
    /// <param name="threshold">Overrides <see cref="Threshold"/> for this call.</param>
    /// <exception cref="InvalidOperationException">No threshold here or in the constructor.</exception>
    /// <exception cref="ArgumentException">Bad embeddings or a non-finite threshold.</exception>
    public bool[,] GetMatchingPairs(Tensor query, Tensor? reference = null, double? threshold = null)
    {
        var limit = TensorChecks.RequireThreshold(threshold ?? Threshold);
        using var scope = NewDisposeScope();
        using var noGrad = torch.no_grad();
        return TensorInterop.ToArray2D<bool>(Compare(Distance.Compute(query, reference), limit));
    }

    /// <summary>The matching (query row, reference row) pairs, in row-major order: the seed's <c>return_tuples=True</c>.</summary>
    /// <inheritdoc cref="GetMatchingPairs" path="/exception"/>
    public IReadOnlyList<(long Query, long Reference)> GetMatchTuples(Tensor query, Tensor? reference = null, double? threshold = null)
    {
        var matches = GetMatchingPairs(query, reference, threshold);
        var pairs = new List<(long, long)>();
        for (var i = 0; i < matches.GetLength(0); i++)
        {
            for (var j = 0; j < matches.GetLength(1); j++)
            {
                if (matches[i, j])
                {
                    pairs.Add((i, j));
                }
            }
        }

        return pairs;
    }

    /// <summary>
    /// The seed's <c>is_match</c>: whether each row of <paramref name="x"/> matches the same row of
    /// <paramref name="y"/>, by the distance's <see cref="BaseDistance.PairwiseDistance"/> — on the rows as given,
    /// without normalization or power, as the seed compares them. For a single pair the seed returns one bool:
    /// <see cref="IsSingleMatch"/>. <see cref="IsMatchNormalized"/> compares as <see cref="GetMatchingPairs"/> does.
    /// </summary>
    /// <exception cref="InvalidOperationException">No threshold here or in the constructor.</exception>
    /// <exception cref="ArgumentException">Bad embeddings, different shapes, or a non-finite threshold.</exception>
    public bool[] IsMatch(Tensor x, Tensor y, double? threshold = null) => Match(x, y, threshold, Distance.PairwiseDistance);

    /// <summary>The seed's <c>is_match</c> for one pair (one row each), which returns one bool.</summary>
    /// <exception cref="ArgumentException">The inputs are not one row each; otherwise as <see cref="IsMatch"/>.</exception>
    public bool IsSingleMatch(Tensor x, Tensor y, double? threshold = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.ndim != 2 || x.shape[0] != 1)
        {
            throw new ArgumentException($"One pair is one row each; x has shape [{string.Join(", ", x.shape)}]. Use IsMatch for several pairs.", nameof(x));
        }

        return IsMatch(x, y, threshold)[0];
    }

    /// <summary>
    /// Whether each row of <paramref name="x"/> matches the same row of <paramref name="y"/> exactly when the pair
    /// matches in <see cref="GetMatchingPairs"/>: the rows are normalized (where the distance normalizes) and the
    /// power applied (<see cref="BaseDistance.ComputePairs"/>). Not in the seed, whose <c>is_match</c> is
    /// <see cref="IsMatch"/>; the two agree for normalized embeddings and power 1.
    /// </summary>
    /// <inheritdoc cref="IsMatch" path="/exception"/>
    public bool[] IsMatchNormalized(Tensor x, Tensor y, double? threshold = null) => Match(x, y, threshold, Distance.ComputePairs);

    private bool[] Match(Tensor x, Tensor y, double? threshold, Func<Tensor, Tensor, Tensor> distances)
    {
        var limit = TensorChecks.RequireThreshold(threshold ?? Threshold);
        using var scope = NewDisposeScope();
        using var noGrad = torch.no_grad();
        return Compare(distances(x, y), limit).cpu().data<bool>().ToArray();
    }

    private Tensor Compare(Tensor distances, double threshold) =>
        Distance.IsInverted ? distances.ge(threshold) : distances.le(threshold);
}
