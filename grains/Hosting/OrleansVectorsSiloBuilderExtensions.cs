using Azure.Storage.Blobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Persistence.FileStorage;
using Orleans.Serialization;
using Orleans.Runtime.MembershipService.SiloMetadata;
using OrleansVectors.Grains.Diagnostics;
using OrleansVectors.Grains.Models;
using OrleansVectors.Grains.Placement;
using OrleansVectors.Grains.Security;
using OrleansVectors.Grains.Storage;
using OrleansVectors.Grains.Threading;

namespace OrleansVectors.Grains.Hosting;

/// <summary>Adds OrleansVectors to a silo.</summary>
public static class OrleansVectorsSiloBuilderExtensions
{
    /// <summary>
    /// Adds the OrleansVectors grains' services: the shard placement director, the silo's model host, validated
    /// options, the service's meter (<see cref="OrleansVectorsMetrics"/>), the silo's readiness
    /// (<see cref="SiloReadiness"/>), and silo metadata that tells other silos whether this one has an accelerator. Index grains also
    /// need a grain storage provider named <see cref="OrleansVectorsStorage.Name"/>: see
    /// <see cref="AddOrleansVectorsFileStorage"/>, or register any provider under that name.
    /// </summary>
    public static ISiloBuilder AddOrleansVectors(this ISiloBuilder builder, Action<OrleansVectorsOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new OrleansVectorsOptions();
        configure?.Invoke(options);
        var validation = new OrleansVectorsOptionsValidator().Validate(null, options);
        if (validation.Failed)
        {
            throw new OptionsValidationException(nameof(OrleansVectorsOptions), typeof(OrleansVectorsOptions), validation.Failures);
        }

        builder.UseSiloMetadata(new Dictionary<string, string>
        {
            [SiloMetadataAcceleratorSilos.MetadataKey] = options.HasAccelerator ? "true" : "false",
        });
        builder.Services.AddOrleansVectors(configure);
        builder.Services.TryAddSingleton<SiloReadiness>();
        builder.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<SiloReadiness>());
        builder.AddIncomingGrainCallFilter<ClusterInternalCallFilter>();
        return builder;
    }

    /// <summary>The services behind <see cref="AddOrleansVectors(ISiloBuilder, Action{OrleansVectorsOptions}?)"/>.</summary>
    public static IServiceCollection AddOrleansVectors(this IServiceCollection services, Action<OrleansVectorsOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var optionsBuilder = services.AddOptionsWithValidateOnStart<OrleansVectorsOptions>();
        if (configure is not null)
        {
            optionsBuilder.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<OrleansVectorsOptions>, OrleansVectorsOptionsValidator>());

        // Orleans' JSON grain storage leaves out default values, and a record's initializer then stands in for them
        // on read: an index created with Metric = InnerProduct (0) came back as L2 after its grain reactivated
        services.Configure<OrleansJsonSerializerOptions>(o => o.JsonSerializerSettings.DefaultValueHandling = Newtonsoft.Json.DefaultValueHandling.Include);
        services.AddMetrics();
        services.TryAddSingleton<OrleansVectorsMetrics>();
        services.TryAddSingleton<ModelCatalog>();
        services.TryAddSingleton<IClientAuthenticator, ApiKeyAuthenticator>();
        services.TryAddSingleton<IModelHost, TorchScriptModelHost>();
        services.TryAddSingleton<FaissWorkers>();
        services.TryAddSingleton<IAcceleratorSilos, SiloMetadataAcceleratorSilos>();
        services.AddPlacementDirector<ShardPlacementStrategy, ShardPlacementDirector>();
        return services;
    }

    /// <summary>
    /// Keeps everything durable as files under <paramref name="directory"/>, shared by every silo on the machine
    /// (the embedded default): index grains' state in "grain-state", shard logs, snapshots and manifests in "indexes".
    /// </summary>
    public static ISiloBuilder AddOrleansVectorsFileStorage(this ISiloBuilder builder, string directory)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        var root = Path.GetFullPath(directory);
        builder.Services.AddSingleton<IDurableStore>(_ => new FileDurableStore(root));
        return builder.AddFileGrainStorage(OrleansVectorsStorage.Name, o => o.RootDirectory = Path.Combine(root, "grain-state"));
    }

    /// <summary>
    /// Keeps everything durable in one Azure Storage account: index grains' state (Orleans blob grain storage) and
    /// shard logs, snapshots and manifests (blob container <paramref name="container"/>).
    /// </summary>
    public static ISiloBuilder AddOrleansVectorsAzureStorage(this ISiloBuilder builder, string connectionString, string container = DefaultContainer)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        ArgumentException.ThrowIfNullOrWhiteSpace(container);
        builder.Services.AddSingleton<IDurableStore>(_ => new BlobDurableStore(new BlobContainerClient(connectionString, container)));
        return builder.AddAzureBlobGrainStorage(OrleansVectorsStorage.Name, o =>
        {
            o.BlobServiceClient = new BlobServiceClient(connectionString);
            o.ContainerName = container + "-grains";
        });
    }

    /// <summary>The blob container of <see cref="AddOrleansVectorsAzureStorage"/> unless another is named.</summary>
    public const string DefaultContainer = "orleansvectors";
}
