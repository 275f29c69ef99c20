using Orleans.TestingHost;
using OrleansVectors.GrainInterfaces;
using OrleansVectors.Grains.Hosting;

namespace OrleansVectors.Testing;

/// <summary>A real three-silo cluster (in-process test cluster) running the OrleansVectors grains.</summary>
public class ClusterFixture : IAsyncLifetime
{
    private readonly string _storage = Directory.CreateTempSubdirectory("ovf-cluster-").FullName;

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IClusterClient Client => Cluster.Client;

    public IQueryGrain Query => Client.GetGrain<IQueryGrain>(0);

    public IIndexGrain Index(string name) => Client.GetGrain<IIndexGrain>(name);

    /// <summary>Adds one batch through the ingest front, as the client library does.</summary>
    public Task<AddReceipt> AddAsync(IIndexGrain index, VectorBatch vectors, long[]? ids = null) =>
        Client.GetGrain<IIngestGrain>(0).AddAsync(index.GetPrimaryKeyString(), new AddRequest(Guid.NewGuid(), vectors) { Ids = ids });

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(3);

        // test clusters run side by side in one process: a client must never reach another cluster's silo that took
        // over a port one of its own silos gave up
        builder.Options.ClusterId = builder.Options.ServiceId = $"ov-{Guid.NewGuid():N}";
        builder.ConfigureSilo((_, silo) => silo.AddOrleansVectors(o => o.ModelDirectory = Path.Combine(AppContext.BaseDirectory, "Fixtures")).AddOrleansVectorsFileStorage(_storage));
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await Cluster.DisposeAsync();
        Directory.Delete(_storage, recursive: true);
    }
}

