using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OrleansVectors.GrainInterfaces;

namespace OrleansVectors.Client.Hosting;

/// <summary>Registers the OrleansVectors client services.</summary>
public static class OrleansVectorsClientExtensions
{
    /// <summary>
    /// Adds <see cref="VectorIndexClient"/> to an Orleans client (the client's <see cref="IGrainFactory"/> reaches the
    /// cluster), sending <paramref name="apiKey"/> with every call when the silos require one (OrleansVectors:ApiKey).
    /// </summary>
    public static IClientBuilder AddOrleansVectors(this IClientBuilder builder, string? apiKey = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOrleansVectorsClient();
        if (!string.IsNullOrEmpty(apiKey))
        {
            // async: the key is set in the call's own context, not left in the caller's
            builder.AddOutgoingGrainCallFilter(async context =>
            {
                RequestContext.Set(ClientCredentials.ApiKeyHeader, apiKey);
                await context.Invoke();
            });
        }

        return builder;
    }

    /// <summary>Adds <see cref="VectorIndexClient"/> over the registered <see cref="IGrainFactory"/> (an Orleans client or a silo).</summary>
    public static IServiceCollection AddOrleansVectorsClient(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(sp => new VectorIndexClient(sp.GetRequiredService<IGrainFactory>()));
        return services;
    }
}
