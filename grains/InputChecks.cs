using OrleansVectors.GrainInterfaces;
using OrleansVectors.Inference.Faiss;

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
}
