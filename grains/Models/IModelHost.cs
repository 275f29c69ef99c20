using OrleansVectors.GrainInterfaces;

namespace OrleansVectors.Grains.Models;

/// <summary>The silo's models: one loaded model per path, shared by every grain on the silo.</summary>
public interface IModelHost
{
    /// <summary>
    /// Embeds raw inputs with the index's model; returns the inputs unchanged when the index has no model.
    /// </summary>
    /// <param name="spec">The index's spec.</param>
    /// <param name="inputs">Rows of the spec's input width with finite values, as checked by the grain that received them (the host asserts, it does not check again).</param>
    /// <param name="cancellationToken">Stops waiting for the model to load.</param>
    /// <exception cref="ArgumentException">The model turns the inputs into NaN or infinite embeddings.</exception>
    /// <exception cref="InvalidOperationException">The model cannot be loaded, fails, or returns a dimension other than the spec's.</exception>
    Task<VectorBatch> EmbedAsync(IndexSpec spec, VectorBatch inputs, CancellationToken cancellationToken = default);
}
