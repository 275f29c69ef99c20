using OrleansVectors.GrainInterfaces;

namespace OrleansVectors.Grains;

/// <summary>What every batch that enters an index (adds, training samples, queries) must satisfy.</summary>
internal static class InputChecks
{
    /// <summary>
    /// Throws <see cref="ArgumentException"/> unless the batch's rows have the width the index takes (the model's
    /// input width when it has a model) and every value is finite.
    /// </summary>
    public static void Require(IndexSpec spec, VectorBatch batch, string name)
    {
        ArgumentNullException.ThrowIfNull(batch, name);
        var width = spec.InputDimension ?? spec.Dimension;
        if (batch.Dimension != width)
        {
            throw new ArgumentException(
                $"Dimension mismatch: the vectors have {batch.Dimension} values each, the index takes {width}{(spec.Model is null ? "" : " (its model's input)")}.", name);
        }

        VectorValidation.RequireFinite(batch.Values, width, name);
    }

    /// <summary>
    /// Throws <see cref="ArgumentException"/> unless there is one id per vector and the ids are non-negative and
    /// distinct.
    /// </summary>
    public static void RequireCallerIds(VectorBatch batch, long[] ids)
    {
        if (ids.Length != batch.Count)
        {
            throw new ArgumentException($"{ids.Length} ids were given for {batch.Count} vectors; there must be exactly one id per vector.", nameof(ids));
        }

        var negative = Array.FindIndex(ids, id => id < 0);
        if (negative >= 0)
        {
            throw new ArgumentException($"Ids must be non-negative; ids[{negative}] is {ids[negative]}.", nameof(ids));
        }

        var seen = new HashSet<long>(ids.Length);
        var repeated = Array.FindIndex(ids, id => !seen.Add(id));
        if (repeated >= 0)
        {
            throw new ArgumentException($"Id {ids[repeated]} appears twice in the batch.", nameof(ids));
        }
    }
}
