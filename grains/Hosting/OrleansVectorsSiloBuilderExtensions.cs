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
    /// <see cref="AddOrleansVectorsFileStorage(ISiloBuilder, string)"/>, or register any provider under that name.
    /// </summary>
    public static ISiloBuilder AddOrleansVectors(this ISiloBuilder builder, Action<OrleansVectorsOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOrleansVectors(configure);

        // the flag other silos place shards by, from the options once they are validated: Orleans reads this
        // dictionary when it creates its SiloMetadata options, after the Configure below (registered first) filled it
        var metadata = new Dictionary<string, string>();
        builder.Services.AddOptions<SiloMetadata>().Configure<IOptions<OrleansVectorsOptions>>((_, options) =>
            metadata[SiloMetadataAcceleratorSilos.MetadataKey] = options.Value.Accelerator == true ? "true" : "false");
        builder.UseSiloMetadata(metadata);
        builder.Services.TryAddSingleton<SiloReadiness>();
        builder.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<SiloReadiness>());
        builder.AddIncomingGrainCallFilter<ClusterInternalCallFilter>();
        return builder;
    }

    /// <summary>
    /// The services behind <see cref="AddOrleansVectors(ISiloBuilder, Action{OrleansVectorsOptions}?)"/>.
    /// <see cref="OrleansVectorsOptions"/> are bound from configuration section <see cref="OrleansVectorsOptions.SectionName"/>,
    /// then <paramref name="configure"/> runs, and the options are validated when the host starts.
    /// </summary>
    public static IServiceCollection AddOrleansVectors(this IServiceCollection services, Action<OrleansVectorsOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var optionsBuilder = services.AddOptions<OrleansVectorsOptions>().BindConfiguration(OrleansVectorsOptions.SectionName).ValidateOnStart();
        if (configure is not null)
        {
            optionsBuilder.Configure(configure);
        }

        // an accelerator not configured either way is what the machine has
        optionsBuilder.PostConfigure<IMachineCapabilities>((o, machine) => o.Accelerator ??= machine.HasAccelerator);
        services.TryAddSingleton<IMachineCapabilities, MachineCapabilities>();
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
    /// (the embedded default): index and k-means grains' state in "grain-state", shard logs, snapshots and manifests in "indexes".
    /// </summary>
    public static ISiloBuilder AddOrleansVectorsFileStorage(this ISiloBuilder builder, string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        var root = Path.GetFullPath(directory);
        return builder.AddOrleansVectorsFileStorage(_ => root);
    }

    /// <summary>
    /// Keeps everything durable as files under the directory <paramref name="directory"/> gives when the silo starts
    /// (from validated options, say); see <see cref="AddOrleansVectorsFileStorage(ISiloBuilder, string)"/>.
    /// </summary>
    public static ISiloBuilder AddOrleansVectorsFileStorage(this ISiloBuilder builder, Func<IServiceProvider, string> directory)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(directory);
        builder.Services.AddSingleton<IDurableStore>(sp => new FileDurableStore(Path.GetFullPath(directory(sp))));
        builder.AddFileGrainStorage(OrleansVectorsStorage.Name, _ => { });
        builder.Services.AddOptions<FileGrainStorageOptions>(OrleansVectorsStorage.Name)
            .Configure<IServiceProvider>((o, sp) => o.RootDirectory = Path.Combine(Path.GetFullPath(directory(sp)), "grain-state"));
        return builder;
    }

    /// <summary>
    /// Keeps everything durable in one Azure Storage account: index and k-means grains' state (Orleans blob grain storage, in
    /// container <paramref name="container"/>-grains) and shard logs, snapshots and manifests (blob container
    /// <paramref name="container"/>).
    /// </summary>
    public static ISiloBuilder AddOrleansVectorsAzureStorage(this ISiloBuilder builder, string connectionString, string container = DefaultContainer)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        ArgumentException.ThrowIfNullOrWhiteSpace(container);
        return builder.AddOrleansVectorsAzureStorage(_ => connectionString, _ => container);
    }

    /// <summary>
    /// Keeps everything durable in the Azure Storage account and blob container that <paramref name="connectionString"/>
    /// and <paramref name="container"/> give when the silo starts (from validated options, say); see
    /// <see cref="AddOrleansVectorsAzureStorage(ISiloBuilder, string, string)"/>.
    /// </summary>
    public static ISiloBuilder AddOrleansVectorsAzureStorage(this ISiloBuilder builder, Func<IServiceProvider, string> connectionString, Func<IServiceProvider, string> container)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(connectionString);
        ArgumentNullException.ThrowIfNull(container);
        builder.Services.AddSingleton<IDurableStore>(sp => new BlobDurableStore(new BlobContainerClient(connectionString(sp), container(sp))));
        return builder.AddAzureBlobGrainStorage(OrleansVectorsStorage.Name, blobs => blobs.Configure<IServiceProvider>((o, sp) =>
        {
            o.BlobServiceClient = new BlobServiceClient(connectionString(sp));
            o.ContainerName = container(sp) + "-grains";
        }));
    }

    /// <summary>The blob container of <see cref="AddOrleansVectorsAzureStorage(ISiloBuilder, string, string)"/> unless another is named.</summary>
    public const string DefaultContainer = "orleansvectors";
}
