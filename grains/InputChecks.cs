using OrleansVectors.GrainInterfaces;

namespace OrleansVectors.Grains;

/// <summary>
/// What every batch that enters an index over the wire (adds, training samples, queries) must satisfy, checked by
/// the first grain that receives it: a caller need not have used the client library, so nothing it sends is trusted.
/// The rules themselves are <see cref="VectorValidation"/>'s; this adds the index's width.
/// </summary>
internal static class InputChecks
{
    /// <summary>
    /// Throws <see cref="ArgumentException"/> unless the batch's rows have the width the index takes (the model's
    /// input width when it has a model), its values are as many whole rows as it says, and every value is finite.
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

        // a batch built by VectorBatch.FromRows always agrees with its count; one crafted on the wire need not
        var rows = VectorValidation.RowCount(batch.Values, width, name);
        if (rows != batch.Count)
        {
            throw new ArgumentException($"The batch says it holds {batch.Count} vectors; its values are {rows} rows of {width}.", name);
        }
    }
}
