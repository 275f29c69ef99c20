using Microsoft.Extensions.DependencyInjection;
using OrleansVectors.GrainInterfaces;
using OrleansVectors.Inference;

namespace OrleansVectors.Client.Hosting;

/// <summary>Registers the cluster-backed inference model.</summary>
public static class ClusterInferenceModelExtensions
{
    /// <summary>
    /// Registers a <see cref="ClusterInferenceModel"/> over index <paramref name="index"/> as the service's
    /// <see cref="IAsyncInferenceModel"/>: the one registration to change when moving from an in-process
    /// <see cref="InferenceModel"/> to the cluster.
    /// </summary>
    public static IServiceCollection AddClusterInferenceModel(this IServiceCollection services, string index, IndexSpec spec, MatchFinder? matchFinder = null)
    {
        ResourceNames.RequireIndexName(index, nameof(index));
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        services.AddOrleansVectorsClient();
        services.AddSingleton<IAsyncInferenceModel>(sp => new ClusterInferenceModel(sp.GetRequiredService<VectorIndexClient>(), index, spec, matchFinder));
        return services;
    }
}
