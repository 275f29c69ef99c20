using OrleansVectors.GrainInterfaces;

namespace OrleansVectors.Grains.Models;

/// <summary>The silo's models: one loaded model per path, shared by every grain on the silo.</summary>
public interface IModelHost
{
    /// <summary>
    /// Embeds raw inputs with the index's model; returns the inputs unchanged when the index has no model.
    /// </summary>
    /// <exception cref="ArgumentException">The inputs' width differs from the spec's input dimension (callers check finiteness at the boundary).</exception>
    /// <exception cref="InvalidOperationException">The model cannot be loaded, fails, or returns a dimension other than the spec's.</exception>
    Task<VectorBatch> EmbedAsync(IndexSpec spec, VectorBatch inputs, CancellationToken cancellationToken = default);
}
