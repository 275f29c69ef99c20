using Orleans.TestingHost;
using OrleansVectors.Grains.Topology;

namespace OrleansVectors.Grains.Tests;

/// <summary>A three-silo in-process cluster whose indexes are durable in the store a test class chooses.</summary>
public sealed class DurableCluster : IAsyncDisposable
{
    private readonly Action? _cleanUp;

    private DurableCluster(InProcessTestCluster cluster, Action? cleanUp)
    {
        Cluster = cluster;
        _cleanUp = cleanUp;
    }

    public InProcessTestCluster Cluster { get; }

    public IClusterClient Client => Cluster.Client;

    public IQueryGrain Query => Client.GetGrain<IQueryGrain>(0);

    public IIndexGrain Index(string name) => Client.GetGrain<IIndexGrain>(name);

    public IShardGrain Shard(string index, int shard) => Client.GetGrain<IShardGrain>(ShardTopology.ShardKey(index, shard));

    /// <summary>The store, as silo 0 sees it (every silo shares it).</summary>
    public IDurableStore Store => (IDurableStore)Cluster.Silos[0].ServiceProvider.GetService(typeof(IDurableStore))!;

    public static async Task<DurableCluster> StartAsync(Action<ISiloBuilder> storage, Action? cleanUp, Action<OrleansVectorsOptions>? configure = null)
    {
        var builder = new InProcessTestClusterBuilder(3);

        // test clusters run side by side in one process: a client must never reach another cluster's silo that took
        // over a port one of its own silos gave up
        builder.Options.ClusterId = builder.Options.ServiceId = $"ov-{Guid.NewGuid():N}";
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddOrleansVectors(o =>
            {
                // snapshots only when a test asks for one, so what a restore replays is known
                o.SnapshotInterval = TimeSpan.Zero;
                o.SnapshotEveryVectors = 0;
                configure?.Invoke(o);
            });
            storage(silo);
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return new DurableCluster(cluster, cleanUp);
    }

    public Task<AddReceipt> AddAsync(string index, VectorBatch vectors, long[]? ids = null, Guid? batchId = null) =>
        Client.GetGrain<IIngestGrain>(0).AddAsync(index, new AddRequest(batchId ?? Guid.NewGuid(), vectors) { Ids = ids });

    /// <summary>Adds all rows in batches, each retried under its batch id while a shard is away, as the client library does.</summary>
    public async Task<List<AddReceipt>> AddAllAsync(string index, float[] values, int dimension, int batchSize)
    {
        var rows = values.Length / dimension;
        var receipts = new List<AddReceipt>();
        for (var start = 0; start < rows; start += batchSize)
        {
            var batch = TestVectors.Batch(values, dimension, start, Math.Min(batchSize, rows - start));
            receipts.Add(await RetryWhileRecoveringAsync(batchId => AddAsync(index, batch, batchId: batchId)));
        }

        return receipts;
    }

    /// <summary>
    /// Calls until the cluster answers, for at most 90 s: while a dead silo is being detected and its shards restored
    /// elsewhere, calls time out or find a shard unavailable. The same batch id on every try.
    /// </summary>
    public static async Task<T> RetryWhileRecoveringAsync<T>(Func<Guid, Task<T>> call)
    {
        var batchId = Guid.NewGuid();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (true)
        {
            try
            {
                return await call(batchId);
            }
            catch (Exception e) when (DateTime.UtcNow < deadline && e is TimeoutException or ShardUnavailableException or SiloUnavailableException or OrleansMessageRejectionException)
            {
                await Task.Delay(250);
            }
        }
    }

    public static Task<T> RetryWhileRecoveringAsync<T>(Func<Task<T>> call) => RetryWhileRecoveringAsync(_ => call());

    /// <summary>A silo other than the primary (which holds the test cluster's membership) that hosts a shard of the index.</summary>
    public async Task<InProcessSiloHandle> SecondarySiloHostingAsync(string index)
    {
        var hosts = (await Index(index).DescribeAsync()).Shards.Select(s => s.Silo).ToHashSet();
        return Cluster.Silos.Skip(1).First(s => hosts.Contains(s.SiloAddress.ToString()));
    }

    public async ValueTask DisposeAsync()
    {
        await Cluster.DisposeAsync();
        _cleanUp?.Invoke();
    }
}
